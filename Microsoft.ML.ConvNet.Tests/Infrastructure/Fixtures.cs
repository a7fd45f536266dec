using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Tests.Infrastructure;

/// <summary>A tensor stored in a reference fixture: its shape and row-major float32 values.</summary>
public sealed class FixtureTensor
{
    /// <summary>Creates a fixture tensor, checking that the values fill the shape.</summary>
    public FixtureTensor(int[] shape, float[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        Shape = new Shape(shape);
        if (Shape.Size != data.Length)
        {
            throw new InvalidDataException($"Fixture tensor of shape {Shape} holds {data.Length} values, expected {Shape.Size}.");
        }
        Data = data;
    }

    /// <summary>The shape ([] for a scalar).</summary>
    public Shape Shape { get; }

    /// <summary>The values, row-major.</summary>
    public float[] Data { get; }

    /// <summary>A new CPU tensor holding these values (owned by the current <see cref="TensorScope"/>, if any).</summary>
    public Tensor ToTensor(bool requiresGrad = false)
    {
        var t = Tensor.FromArray(Data, Shape);
        t.RequiresGrad = requiresGrad;
        return t;
    }
}

/// <summary>
/// One reference case written by build/reference/make_fixtures.py: an op, its parameters and inputs, PyTorch's output,
/// the fixed upstream gradient, and the gradients of sum(output · upstream) with respect to the inputs named in
/// <see cref="Grads"/> (the other inputs do not require gradients).
/// </summary>
public sealed class FixtureCase
{
    private readonly JsonElement _params;

    internal FixtureCase(string family, JsonElement element)
    {
        Family = family;
        Name = element.GetProperty("name").GetString() ?? throw new InvalidDataException($"A case in '{family}' has no name.");
        Op = element.GetProperty("op").GetString() ?? throw new InvalidDataException($"Case '{Name}' has no op.");
        _params = element.GetProperty("params").Clone();
        Inputs = ReadTensors(element, "inputs");
        Grads = ReadTensors(element, "grads");
        State = ReadTensors(element, "state");
        Output = ReadTensor(element.GetProperty("output"));
        Upstream = ReadTensor(element.GetProperty("upstream"));
    }

    /// <summary>The op family (the fixture file's name without extension).</summary>
    public string Family { get; }

    /// <summary>The case name, unique within its family.</summary>
    public string Name { get; }

    /// <summary>PyTorch's name of the op (conv2d, max_pool2d, cross_entropy, ...).</summary>
    public string Op { get; }

    /// <summary>The inputs by name, in the order the fixture lists them.</summary>
    public IReadOnlyDictionary<string, FixtureTensor> Inputs { get; }

    /// <summary>PyTorch's output.</summary>
    public FixtureTensor Output { get; }

    /// <summary>The upstream gradient the output is projected on.</summary>
    public FixtureTensor Upstream { get; }

    /// <summary>Gradients of sum(output · upstream) by input name.</summary>
    public IReadOnlyDictionary<string, FixtureTensor> Grads { get; }

    /// <summary>Inputs the op updates in place (batch-norm running statistics), with their values after the call.</summary>
    public IReadOnlyDictionary<string, FixtureTensor> State { get; }

    /// <summary>Whether the parameter is present and not null.</summary>
    public bool HasParam(string name) => _params.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>An integer parameter.</summary>
    public int Int(string name) => Param(name).GetInt32();

    /// <summary>An integer parameter that may be null (for example a pooling stride defaulting to the kernel size).</summary>
    public int? OptionalInt(string name) => HasParam(name) ? Param(name).GetInt32() : null;

    /// <summary>A floating-point parameter.</summary>
    public float Float(string name) => Param(name).GetSingle();

    /// <summary>A Boolean parameter.</summary>
    public bool Bool(string name) => Param(name).GetBoolean();

    /// <summary>A string parameter.</summary>
    public string String(string name) => Param(name).GetString() ?? throw new InvalidDataException($"{this}: parameter '{name}' is null.");

    /// <summary>An integer-array parameter.</summary>
    public int[] Ints(string name) => [.. Param(name).EnumerateArray().Select(e => e.GetInt32())];

    /// <summary>A float-array parameter, or null when absent.</summary>
    public float[]? OptionalFloats(string name) => HasParam(name) ? [.. Param(name).EnumerateArray().Select(e => e.GetSingle())] : null;

    /// <inheritdoc/>
    public override string ToString() => $"{Family}/{Name}";

    private JsonElement Param(string name)
        => _params.TryGetProperty(name, out var v)
            ? v
            : throw new InvalidDataException($"{this}: the fixture has no parameter '{name}'.");

    private static Dictionary<string, FixtureTensor> ReadTensors(JsonElement element, string property)
    {
        var result = new Dictionary<string, FixtureTensor>(StringComparer.Ordinal);
        if (element.TryGetProperty(property, out var obj))
        {
            foreach (var p in obj.EnumerateObject())
            {
                result.Add(p.Name, ReadTensor(p.Value));
            }
        }
        return result;
    }

    private static FixtureTensor ReadTensor(JsonElement element)
    {
        int[] shape = [.. element.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32())];
        var dataElement = element.GetProperty("data");
        var data = new float[dataElement.GetArrayLength()];
        int i = 0;
        foreach (var e in dataElement.EnumerateArray())
        {
            data[i++] = e.GetSingle();
        }
        return new FixtureTensor(shape, data);
    }
}

/// <summary>
/// Loads the PyTorch reference fixtures (Fixtures/*.json, copied next to the test assembly). The files are generated by
/// build/reference/make_fixtures.py and committed; tests never run Python.
/// </summary>
public static class Fixtures
{
    private static readonly ConcurrentDictionary<string, Lazy<IReadOnlyList<FixtureCase>>> Cache = new(StringComparer.Ordinal);

    /// <summary>The folder holding the fixture files.</summary>
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    /// <summary>All cases of a family (conv, pool, norm, ...), read once and cached.</summary>
    /// <exception cref="FileNotFoundException">The fixture file is missing.</exception>
    public static IReadOnlyList<FixtureCase> Load(string family)
        => Cache.GetOrAdd(family, f => new Lazy<IReadOnlyList<FixtureCase>>(() => Read(f))).Value;

    /// <summary>The case of a family with the given name.</summary>
    public static FixtureCase Get(string family, string name)
        => Load(family).FirstOrDefault(c => c.Name == name)
            ?? throw new KeyNotFoundException($"The fixture file {family}.json has no case named '{name}'.");

    /// <summary>The case names of a family, one row each, for data-driven tests.</summary>
    public static IEnumerable<object[]> CaseNames(string family) => Load(family).Select(c => new object[] { c.Name });

    private static List<FixtureCase> Read(string family)
    {
        string path = Path.Combine(Folder, family + ".json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The PyTorch reference fixture '{path}' is missing. Regenerate the fixtures with " +
                "'/usr/bin/python3 build/reference/make_fixtures.py' (see build/reference/README.md) and rebuild, " +
                "so that Microsoft.ML.ConvNet.Tests/Fixtures/** is copied to the output folder.", path);
        }
        using var document = JsonDocument.Parse(File.ReadAllBytes(path));
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"The fixture file '{path}' must hold a JSON array of cases.");
        }
        var cases = new List<FixtureCase>();
        foreach (var element in document.RootElement.EnumerateArray())
        {
            cases.Add(new FixtureCase(family, element));
        }
        if (cases.Count == 0)
        {
            throw new InvalidDataException($"The fixture file '{path}' holds no cases.");
        }
        return cases;
    }
}
