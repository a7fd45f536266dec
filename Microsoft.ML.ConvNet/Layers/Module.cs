using System.Security.Cryptography;
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

    /// <summary>
    /// Frees the values of <paramref name="intermediate"/>, a tensor this module computed and whose only reader has just
    /// run, when no backward pass reads them: neither its own gradient function nor that reader's (a shortcut that a fused
    /// batch norm added). The tensor stays in the graph, so training no longer holds its values until the backward pass.
    /// Only when no observer listens and the current <see cref="TensorScope"/> created it.
    /// </summary>
    internal static void ReleaseUnreadValues(Tensor intermediate)
    {
        if (_observer == null && intermediate.GradFn is { BackwardReadsOutput: false } && TensorScope.Current?.Owns(intermediate) == true)
        {
            intermediate.ReleaseValues();
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
        var (values, shapes) = StateDictFile.Read(path);
        LoadStateDict(values, shapes, strict);
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
/// The state-dictionary binary format: "CNSD" magic, int32 version, int32 count, then per tensor a UTF-8 name (int32
/// byte length + bytes), int32 rank, int32 dims, and little-endian float32 values. Version 2 (written since) ends with
/// the SHA-256 of everything before it, verified when read; version 1 files (without it) are still read.
/// </summary>
public static class StateDictFile
{
    private const int Magic = 0x4453_4E43; // "CNSD"
    private const int Version = 2;
    private const int MaxEntries = 1 << 20;
    private const int MaxRank = 8;

    /// <summary>The largest state-dictionary file read, in bytes (64 GiB).</summary>
    public const long MaxFileBytes = 1L << 36;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Writes tensors by name, followed by the SHA-256 of what was written.</summary>
    public static void Write(Stream stream, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(tensors);
        using var hashing = new HashingStream(stream);
        using (var w = new BinaryWriter(hashing, Encoding.UTF8, leaveOpen: true))
        {
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
        stream.Write(hashing.Hash());
    }

    /// <summary>Writes to a temporary file beside <paramref name="path"/> and renames it, so a failure never leaves a partial file.</summary>
    public static void WriteAtomic(string path, IReadOnlyDictionary<string, Tensor> tensors)
        => AtomicFile.Write(path, s => Write(s, tensors));

    /// <summary>Reads the state-dictionary file at <paramref name="path"/> (a regular file of at most <see cref="MaxFileBytes"/> bytes).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidFileException">The file is not a valid state dictionary; the message names it and what is wrong.</exception>
    public static (Dictionary<string, float[]> Values, Dictionary<string, Shape> Shapes) Read(string path)
    {
        using var fs = InputFile.OpenRead(path, MaxFileBytes, "state-dictionary file");
        return Read(fs, path);
    }

    /// <summary>Reads tensors by name; every size is checked before it is allocated, and errors name <paramref name="source"/> and what is wrong.</summary>
    /// <exception cref="InvalidFileException">The data is not a valid state dictionary (bad magic number, truncated, sizes that cannot be right, checksum mismatch).</exception>
    public static (Dictionary<string, float[]> Values, Dictionary<string, Shape> Shapes) Read(Stream stream, string source)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(source);
        return InputFile.Guard(source, "state-dictionary file", () => ReadCore(stream, source));
    }

    private static (Dictionary<string, float[]> Values, Dictionary<string, Shape> Shapes) ReadCore(Stream stream, string source)
    {
        long? remaining = stream.CanSeek ? stream.Length - stream.Position : null;
        using var hashing = new HashingStream(stream);
        using var r = new BinaryReader(hashing, Encoding.UTF8, leaveOpen: true);
        try
        {
            if (r.ReadInt32() != Magic)
            {
                throw new InvalidDataException($"{source} is not a ConvNetML state dictionary (bad magic number).");
            }
            int version = r.ReadInt32();
            if (version is < 1 or > Version)
            {
                throw new InvalidDataException($"{source} has state-dictionary format version {version}; this library reads 1 to {Version}.");
            }
            int count = r.ReadInt32();
            if (count is < 0 or > MaxEntries)
            {
                throw new InvalidDataException($"{source}: the entry count {count} is not in 0..{MaxEntries}.");
            }
            var values = new Dictionary<string, float[]>(StringComparer.Ordinal);
            var shapes = new Dictionary<string, Shape>(StringComparer.Ordinal);
            for (int i = 0; i < count; i++)
            {
                int len = r.ReadInt32();
                if (len < 0 || len > 4096)
                {
                    throw new InvalidDataException($"{source}: entry {i} has an invalid name length {len}.");
                }
                var nameBytes = r.ReadBytes(len);
                if (nameBytes.Length != len)
                {
                    throw new EndOfStreamException();
                }
                string name;
                try
                {
                    name = StrictUtf8.GetString(nameBytes);
                }
                catch (DecoderFallbackException e)
                {
                    throw new InvalidDataException($"{source}: the name of entry {i} is not valid UTF-8.", e);
                }
                int rank = r.ReadInt32();
                if (rank < 0 || rank > MaxRank)
                {
                    throw new InvalidDataException($"{source}: '{name}' has an invalid rank {rank}.");
                }
                var dims = new int[rank];
                long size = 1;
                for (int d = 0; d < rank; d++)
                {
                    dims[d] = r.ReadInt32();
                    if (dims[d] < 0)
                    {
                        throw new InvalidDataException($"{source}: '{name}' has the negative dimension {dims[d]}.");
                    }
                    size = size == 0 || dims[d] == 0 ? 0 : size > Array.MaxLength / dims[d] ? long.MaxValue : size * dims[d];
                }
                if (size > Array.MaxLength / sizeof(float))
                {
                    throw new InvalidDataException($"{source}: '{name}' has shape [{string.Join(", ", dims)}], more values than one tensor can hold.");
                }
                if (remaining is long left && size * sizeof(float) > left - hashing.Count)
                {
                    throw new InvalidDataException(
                        $"{source} is truncated: '{name}' of shape [{string.Join(", ", dims)}] needs {size * sizeof(float)} bytes, {Math.Max(0, left - hashing.Count)} remain.");
                }
                if (!values.TryAdd(name, ReadValues(hashing, (int)size)))
                {
                    throw new InvalidDataException($"{source}: the name '{name}' appears twice.");
                }
                shapes[name] = new Shape(dims);
            }
            if (version >= 2)
            {
                var actual = hashing.Hash();
                Span<byte> recorded = stackalloc byte[32];
                if (stream.ReadAtLeast(recorded, 32, throwOnEndOfStream: false) != 32)
                {
                    throw new EndOfStreamException();
                }
                if (!recorded.SequenceEqual(actual))
                {
                    throw new InvalidDataException(
                        $"{source} is corrupt: the SHA-256 of its contents ({Convert.ToHexStringLower(actual)}) differs from the one recorded when it was saved ({Convert.ToHexStringLower(recorded)}).");
                }
                Span<byte> probe = stackalloc byte[1];
                if (stream.Read(probe) != 0)
                {
                    throw new InvalidDataException($"{source}: there are bytes after the end of the state dictionary.");
                }
            }
            return (values, shapes);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException($"{source} is truncated: the state dictionary ends early.", e);
        }
    }

    /// <summary>Reads <paramref name="count"/> floats; a large tensor is read in chunks, so memory grows only with the data that is there.</summary>
    private static float[] ReadValues(Stream stream, int count)
    {
        const int Chunk = 1 << 22;
        long bytes = (long)count * sizeof(float);
        if (bytes <= Chunk)
        {
            var small = new float[count];
            if (stream.ReadAtLeast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(small.AsSpan()), (int)bytes, throwOnEndOfStream: false) != bytes)
            {
                throw new EndOfStreamException();
            }
            return small;
        }
        var chunks = new List<byte[]>();
        for (long left = bytes; left > 0;)
        {
            var chunk = new byte[Math.Min(left, Chunk)];
            if (stream.ReadAtLeast(chunk, chunk.Length, throwOnEndOfStream: false) != chunk.Length)
            {
                throw new EndOfStreamException();
            }
            chunks.Add(chunk);
            left -= chunk.Length;
        }
        var data = new float[count];
        var target = System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan());
        int at = 0;
        foreach (var chunk in chunks)
        {
            chunk.CopyTo(target[at..]);
            at += chunk.Length;
        }
        return data;
    }

    /// <summary>A pass-through stream that hashes (SHA-256) every byte read or written, and counts them.</summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        public long Count { get; private set; }

        public byte[] Hash() => _hash.GetHashAndReset();

        public override bool CanRead => inner.CanRead;

        public override bool CanSeek => false;

        public override bool CanWrite => inner.CanWrite;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => Count; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            _hash.AppendData(buffer[..n]);
            Count += n;
            return n;
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            inner.Write(buffer);
            _hash.AppendData(buffer);
            Count += buffer.Length;
        }

        public override void Flush() => inner.Flush();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
