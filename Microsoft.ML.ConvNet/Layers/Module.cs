using System.Text;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.IO;
using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Layers;

/// <summary>
/// Base of every layer and model: named parameters (trainable tensors), buffers (state such as batch-norm
/// running statistics) and child modules, addressed with PyTorch's dotted names (<c>layer1.0.conv1.weight</c>),
/// a training/evaluation mode, freezing, and state-dictionary save/load. Disposing a module releases its tensors.
/// </summary>
public abstract class Module : IDisposable
{
    private readonly List<KeyValuePair<string, Tensor>> _parameters = new();
    private readonly List<KeyValuePair<string, Tensor>> _buffers = new();
    private readonly List<KeyValuePair<string, Module>> _children = new();
    private bool _disposed;

    /// <summary>
    /// Computes the module's output: runs <see cref="ForwardCore"/> and then tells the observer of this thread,
    /// if any (<see cref="ObserveForward"/>), so tools such as the model summary see every layer's input and output.
    /// </summary>
    public Tensor Forward(Tensor input)
    {
        var output = ForwardCore(input);
        _observer?.Invoke(this, input, output);
        return output;
    }

    /// <summary>The module's computation; subclasses implement it and call children through their <see cref="Forward"/>.</summary>
    protected abstract Tensor ForwardCore(Tensor input);

    [ThreadStatic]
    private static Action<Module, Tensor, Tensor>? _observer;

    /// <summary>
    /// Frees <paramref name="intermediate"/>, a tensor this module computed and has finished reading, once
    /// <paramref name="consumer"/> was computed from it, when nothing can read it again: no gradient is recorded through
    /// either, no observer listens, the two are different tensors, and the current <see cref="TensorScope"/> created it.
    /// Without this, a forward pass without gradients holds every intermediate until its scope ends (at 224×224 and
    /// batch 32 that is gigabytes).
    /// </summary>
    internal static void ReleaseIntermediate(Tensor intermediate, Tensor consumer)
    {
        if (_observer == null && !ReferenceEquals(intermediate, consumer) && !intermediate.RequiresGrad && !consumer.RequiresGrad)
        {
            TensorScope.ReleaseEarly(intermediate);
        }
    }

    /// <summary>True while an observer listens on this thread (fused paths then run layer by layer, so it sees each).</summary>
    internal static bool IsObserved => _observer != null;

    /// <summary>
    /// Calls <paramref name="observer"/>(module, input, output) after every module's forward pass on this thread until
    /// the returned object is disposed (children report before their parents). Observers nest.
    /// </summary>
    public static IDisposable ObserveForward(Action<Module, Tensor, Tensor> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        var previous = _observer;
        _observer = previous == null ? observer : previous + observer;
        return new ObserverRegistration(previous);
    }

    private sealed class ObserverRegistration(Action<Module, Tensor, Tensor>? previous) : IDisposable
    {
        private bool _disposed;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                _observer = previous;
            }
        }
    }

    /// <summary>True in training mode (dropout active, batch statistics used); the default.</summary>
    public bool IsTraining { get; private set; } = true;

    /// <summary>
    /// Keeps this module in evaluation mode whatever <see cref="Train"/> asks (its children still follow): a frozen
    /// batch norm of a fine-tuned network keeps using, and no longer updates, its pretrained running statistics.
    /// </summary>
    public bool KeepsEvaluationMode { get; set; }

    /// <summary>Sets training mode on this module and all its children (a module that <see cref="KeepsEvaluationMode"/> stays in evaluation mode).</summary>
    public Module Train(bool training = true)
    {
        IsTraining = training && !KeepsEvaluationMode;
        foreach (var c in _children)
        {
            c.Value.Train(training);
        }
        return this;
    }

    /// <summary>Sets evaluation mode (same as <c>Train(false)</c>).</summary>
    public Module Eval() => Train(false);

    /// <summary>Registers a trainable parameter under <paramref name="name"/>; the module owns it from now on.</summary>
    protected Tensor RegisterParameter(string name, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckName(name);
        value.Unscope();
        value.RequiresGrad = true;
        _parameters.Add(new(name, value));
        return value;
    }

    /// <summary>Registers a non-trainable state tensor (saved in the state dictionary); the module owns it.</summary>
    protected Tensor RegisterBuffer(string name, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(value);
        CheckName(name);
        value.Unscope();
        _buffers.Add(new(name, value));
        return value;
    }

    /// <summary>Registers a child module under <paramref name="name"/> (its parameters become <c>name.*</c>).</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        ArgumentNullException.ThrowIfNull(module);
        CheckName(name);
        _children.Add(new(name, module));
        return module;
    }

    /// <summary>Replaces a registered parameter or buffer tensor (used when loading weights of another shape is not allowed).</summary>
    private void CheckName(string name)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Invalid member name '{name}': it must be non-empty and contain no '.'.");
        }
        if (_parameters.Any(p => p.Key == name) || _buffers.Any(p => p.Key == name) || _children.Any(p => p.Key == name))
        {
            throw new ArgumentException($"{GetType().Name} already has a member named '{name}'.");
        }
    }

    /// <summary>The direct children, in registration order.</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedChildren() => _children;

    /// <summary>This module and all descendants with their dotted names ("" for this one).</summary>
    public IEnumerable<KeyValuePair<string, Module>> NamedModules(string prefix = "")
    {
        yield return new(prefix, this);
        foreach (var c in _children)
        {
            foreach (var m in c.Value.NamedModules(Join(prefix, c.Key)))
            {
                yield return m;
            }
        }
    }

    /// <summary>All parameters with dotted names, depth-first in registration order (PyTorch's order).</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedParameters(string prefix = "")
    {
        foreach (var p in _parameters)
        {
            yield return new(Join(prefix, p.Key), p.Value);
        }
        foreach (var c in _children)
        {
            foreach (var p in c.Value.NamedParameters(Join(prefix, c.Key)))
            {
                yield return p;
            }
        }
    }

    /// <summary>All parameters.</summary>
    public IEnumerable<Tensor> Parameters() => NamedParameters().Select(p => p.Value);

    /// <summary>All parameters that are not frozen.</summary>
    public IEnumerable<Tensor> TrainableParameters() => Parameters().Where(p => p.RequiresGrad);

    /// <summary>All buffers with dotted names.</summary>
    public IEnumerable<KeyValuePair<string, Tensor>> NamedBuffers(string prefix = "")
    {
        foreach (var b in _buffers)
        {
            yield return new(Join(prefix, b.Key), b.Value);
        }
        foreach (var c in _children)
        {
            foreach (var b in c.Value.NamedBuffers(Join(prefix, c.Key)))
            {
                yield return b;
            }
        }
    }

    /// <summary>Number of parameter elements (all, or only trainable ones).</summary>
    public long ParameterCount(bool trainableOnly = false)
        => (trainableOnly ? TrainableParameters() : Parameters()).Sum(p => (long)p.Size);

    /// <summary>Stops gradient flow to every parameter of this module (transfer learning: freeze the backbone).</summary>
    public void Freeze()
    {
        foreach (var p in Parameters())
        {
            p.RequiresGrad = false;
            p.ClearGrad();
        }
    }

    /// <summary>Makes every parameter of this module trainable again.</summary>
    public void Unfreeze()
    {
        foreach (var p in Parameters())
        {
            p.RequiresGrad = true;
        }
    }

    /// <summary>Sets every parameter's gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters())
        {
            p.ZeroGrad();
        }
    }

    /// <summary>
    /// Moves every parameter, gradient and buffer of this module and its children to <paramref name="device"/> in place
    /// (the tensor objects stay the same, so an optimizer built on the parameters keeps working; its state is created on
    /// the parameters' device at its first step). Returns this module.
    /// </summary>
    public Module To(Device device)
    {
        foreach (var p in Parameters())
        {
            p.MoveTo(device);
        }
        foreach (var b in NamedBuffers())
        {
            b.Value.MoveTo(device);
        }
        foreach (var m in NamedModules())
        {
            m.Value.OnDeviceChanged(device);
        }
        return this;
    }

    /// <summary>The device of the first parameter (or buffer); the CPU for a module without tensors.</summary>
    public Device Device => Parameters().Concat(NamedBuffers().Select(b => b.Value)).FirstOrDefault()?.Device ?? Device.Cpu;

    /// <summary>Called on each module after <see cref="To"/> moved its tensors; override to drop device-specific caches.</summary>
    protected virtual void OnDeviceChanged(Device device)
    {
    }

    /// <summary>The state dictionary: parameters then buffers, by dotted name (the tensors themselves, not copies).</summary>
    public IReadOnlyDictionary<string, Tensor> StateDict()
    {
        var d = new Dictionary<string, Tensor>();
        foreach (var p in NamedParameters())
        {
            d[p.Key] = p.Value;
        }
        foreach (var b in NamedBuffers())
        {
            d[b.Key] = b.Value;
        }
        return d;
    }

    /// <summary>
    /// Copies values into this module's parameters and buffers by name. Shapes must match. With
    /// <paramref name="strict"/>, missing and unexpected names are errors; the error lists them.
    /// </summary>
    public void LoadStateDict(IReadOnlyDictionary<string, float[]> values, IReadOnlyDictionary<string, Shape>? shapes = null, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(values);
        var own = StateDict();
        var missing = own.Keys.Where(k => !values.ContainsKey(k)).ToList();
        var unexpected = values.Keys.Where(k => !own.ContainsKey(k)).ToList();
        if (strict && (missing.Count > 0 || unexpected.Count > 0))
        {
            throw new InvalidDataException($"State dictionary does not match {GetType().Name}: missing [{string.Join(", ", missing)}], unexpected [{string.Join(", ", unexpected)}].");
        }
        foreach (var (name, t) in own)
        {
            if (!values.TryGetValue(name, out var v))
            {
                continue;
            }
            if (shapes != null && shapes.TryGetValue(name, out var s) && s != t.Shape || v.Length != t.Size)
            {
                throw new ShapeMismatchException($"LoadStateDict: '{name}' has shape {t.Shape} in the model but {(shapes != null && shapes.TryGetValue(name, out var s2) ? s2.ToString() : $"{v.Length} values")} in the state dictionary.");
            }
            t.CopyFrom(v);
        }
    }

    /// <summary>Writes the state dictionary to <paramref name="stream"/> (see <see cref="StateDictFile"/>).</summary>
    public void SaveStateDict(Stream stream) => StateDictFile.Write(stream, StateDict());

    /// <summary>Writes the state dictionary to a file atomically (temporary file, then rename).</summary>
    public void SaveStateDict(string path) => StateDictFile.WriteAtomic(path, StateDict());

    /// <summary>Reads a state dictionary written by <see cref="SaveStateDict(string)"/> into this module.</summary>
    public void LoadStateDict(string path, bool strict = true)
    {
        using var fs = File.OpenRead(path);
        LoadStateDict(fs, strict, path);
    }

    /// <summary>Reads a state dictionary from a stream into this module.</summary>
    public void LoadStateDict(Stream stream, bool strict = true, string source = "stream")
    {
        var (values, shapes) = StateDictFile.Read(stream, source);
        LoadStateDict(values, shapes, strict);
    }

    /// <summary>
    /// Writes the state dictionary to a safetensors file atomically (temporary file, then rename), under torchvision's
    /// names, so PyTorch loads it with <c>safetensors.torch.load_file</c> (see <see cref="Safetensors"/>).
    /// </summary>
    public void SaveSafetensors(string path) => Safetensors.Save(this, path);

    /// <summary>Writes the state dictionary to <paramref name="stream"/> in the safetensors format.</summary>
    public void SaveSafetensors(Stream stream) => Safetensors.Save(this, stream);

    /// <summary>
    /// Loads a safetensors file (such as a torchvision checkpoint converted by PyTorch users) into this module by name.
    /// With <paramref name="strict"/>, missing keys, unexpected keys and shape mismatches are an error that lists them
    /// all and changes nothing; without, the matching entries are loaded and the rest reported in the result.
    /// </summary>
    public StateDictLoadResult LoadSafetensors(string path, bool strict = true) => Safetensors.Load(this, path, strict);

    /// <summary>Loads a safetensors file from <paramref name="stream"/> into this module (see <see cref="LoadSafetensors(string, bool)"/>).</summary>
    public StateDictLoadResult LoadSafetensors(Stream stream, bool strict = true, string source = "stream")
        => Safetensors.Load(this, stream, strict, source);

    /// <summary>Releases parameters, buffers and children.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases tensors; override to release more.</summary>
    protected virtual void Dispose(bool disposing)
    {
        if (_disposed || !disposing)
        {
            return;
        }
        _disposed = true;
        foreach (var p in _parameters)
        {
            p.Value.ClearGrad();
            p.Value.Dispose();
        }
        foreach (var b in _buffers)
        {
            b.Value.Dispose();
        }
        foreach (var c in _children)
        {
            c.Value.Dispose();
        }
    }

    /// <summary>A one-line description, <c>TypeName()</c>; layers with settings override it to show them.</summary>
    public override string ToString() => GetType().Name + "()";

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;
}

/// <summary>
/// The state-dictionary binary format: "CNSD" magic, int32 version (1), int32 count, then per tensor a UTF-8
/// name (int32 byte length + bytes), int32 rank, int32 dims, and little-endian float32 values.
/// </summary>
public static class StateDictFile
{
    private const int Magic = 0x4453_4E43; // "CNSD"
    private const int Version = 1;

    /// <summary>Writes tensors by name.</summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        w.Write(Magic);
        w.Write(Version);
        w.Write(tensors.Count);
        foreach (var (name, t) in tensors)
        {
            var bytes = Encoding.UTF8.GetBytes(name);
            w.Write(bytes.Length);
            w.Write(bytes);
            w.Write(t.Rank);
            foreach (int d in t.Shape.Dims)
            {
                w.Write(d);
            }
            var values = t.ToArray();
            w.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }
    }

    /// <summary>Writes to a temporary file beside <paramref name="path"/> and renames it, so a failure never leaves a partial file.</summary>
    public static void WriteAtomic(string path, IReadOnlyDictionary<string, Tensor> tensors)
        => AtomicFile.Write(path, s => Write(s, tensors));

    /// <summary>Reads tensors by name; errors name <paramref name="source"/> and what is wrong.</summary>
    public static (Dictionary<string, float[]> Values, Dictionary<string, Shape> Shapes) Read(Stream stream, string source)
    {
        using var r = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadInt32() != Magic)
            {
                throw new InvalidDataException($"{source} is not a ConvNetML state dictionary (bad magic number).");
            }
            int version = r.ReadInt32();
            if (version > Version)
            {
                throw new InvalidDataException($"{source} has state-dictionary format version {version}; this library reads up to {Version}.");
            }
            int count = r.ReadInt32();
            var values = new Dictionary<string, float[]>();
            var shapes = new Dictionary<string, Shape>();
            for (int i = 0; i < count; i++)
            {
                int len = r.ReadInt32();
                if (len < 0 || len > 4096)
                {
                    throw new InvalidDataException($"{source}: entry {i} has an invalid name length {len}.");
                }
                string name = Encoding.UTF8.GetString(r.ReadBytes(len));
                int rank = r.ReadInt32();
                if (rank < 0 || rank > 8)
                {
                    throw new InvalidDataException($"{source}: '{name}' has an invalid rank {rank}.");
                }
                var dims = new int[rank];
                for (int d = 0; d < rank; d++)
                {
                    dims[d] = r.ReadInt32();
                }
                var shape = new Shape(dims);
                var data = new float[shape.Size];
                var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan());
                // Zip and network streams may return fewer bytes than asked: read until full or the end.
                if (r.BaseStream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != bytes.Length)
                {
                    throw new EndOfStreamException();
                }
                values[name] = data;
                shapes[name] = shape;
            }
            return (values, shapes);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{source} is truncated: the state dictionary ends early.", e);
        }
    }
}
