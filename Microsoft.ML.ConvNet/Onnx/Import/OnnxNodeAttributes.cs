using System.Text;

namespace Microsoft.ML.ConvNet.Onnx;

/// <summary>
/// The attributes of one node being compiled, read by name with defaults. Every attribute an operator reads (or
/// declares as ignorable) is ticked off; <see cref="CheckAllUsed"/> then refuses any other, so that an attribute the
/// importer does not understand is an error at load time rather than a silently different result.
/// </summary>
internal sealed class OnnxNodeAttributes(OnnxNodeData node, Func<string, NotSupportedException> unsupported, Func<string, InvalidDataException> invalid)
{
    private readonly Dictionary<string, OnnxAttributeData> _byName = node.Attributes
        .GroupBy(a => a.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    /// <summary>True when the node sets <paramref name="name"/>.</summary>
    public bool Has(string name) => _byName.ContainsKey(name);

    /// <summary>Marks attributes as understood without reading them (they do not change the result here).</summary>
    public void Ignore(params string[] names)
    {
        foreach (var n in names)
        {
            _used.Add(n);
        }
    }

    public long Int(string name, long fallback) => Get(name, OnnxAttributeData.IntType) is { } a ? a.I : fallback;

    public float Float(string name, float fallback) => Get(name, OnnxAttributeData.FloatType) is { } a ? a.F : fallback;

    public string String(string name, string fallback) => Get(name, OnnxAttributeData.StringType) is { } a ? Encoding.UTF8.GetString(a.S) : fallback;

    public long[]? Ints(string name) => Get(name, OnnxAttributeData.IntsType) is { } a ? (a.Type == OnnxAttributeData.IntType ? [a.I] : [.. a.Ints]) : null;

    public float[]? Floats(string name) => Get(name, OnnxAttributeData.FloatsType) is { } a ? (a.Type == OnnxAttributeData.FloatType ? [a.F] : [.. a.Floats]) : null;

    public OnnxTensorData? Tensor(string name) => Get(name, OnnxAttributeData.TensorType)?.T;

    /// <summary>Refuses the attributes that no operator code read.</summary>
    public void CheckAllUsed()
    {
        var unknown = _byName.Keys.Where(k => !_used.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw unsupported($"attribute{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => $"'{u}'"))} not supported");
        }
    }

    private OnnxAttributeData? Get(string name, int type)
    {
        _used.Add(name);
        if (!_byName.TryGetValue(name, out var a))
        {
            return null;
        }
        if (a.HasGraph)
        {
            throw unsupported($"graph-valued attribute '{name}' not supported");
        }
        bool fits = a.Type == type || (type == OnnxAttributeData.IntsType && a.Type == OnnxAttributeData.IntType)
            || (type == OnnxAttributeData.FloatsType && a.Type == OnnxAttributeData.FloatType);
        if (!fits)
        {
            throw invalid($"attribute '{name}' has type {a.Type}, expected {type}");
        }
        if (a.Type == OnnxAttributeData.TensorType && a.T == null)
        {
            throw invalid($"attribute '{name}' has no tensor");
        }
        return a;
    }
}
