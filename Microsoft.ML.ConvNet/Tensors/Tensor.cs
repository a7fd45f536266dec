using System.Globalization;
using System.Text;
using Microsoft.ML.ConvNet.Autograd;
using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cpu;

namespace Microsoft.ML.ConvNet.Tensors;

/// <summary>
/// A dense float32 tensor, row-major (images are <c>[N, C, H, W]</c>), with reverse-mode autograd.
/// Tensors are <see cref="IDisposable"/>: dispose them, or create them inside a <see cref="TensorScope"/>
/// that disposes them for you, so their memory goes back to the pool at once instead of waiting for the GC.
/// </summary>
public sealed partial class Tensor : IDisposable
{
    private Storage? _storage;
    private TensorScope? _scope;

    internal Tensor(Shape shape, Storage storage, bool register = true)
    {
        if (storage.Length < shape.Size)
        {
            throw new ArgumentException($"Storage of {storage.Length} elements is too small for shape {shape}.");
        }
        Shape = shape;
        _storage = storage;
        if (register && TensorScope.Current is { } scope)
        {
            _scope = scope;
            scope.Register(this);
        }
    }

    /// <summary>The dimensions.</summary>
    public Shape Shape { get; }

    /// <summary>Number of elements.</summary>
    public int Size => Shape.Size;

    /// <summary>Number of dimensions.</summary>
    public int Rank => Shape.Rank;

    /// <summary>The device holding the data.</summary>
    public Device Device => Backend.Device;

    /// <summary>The backend that runs this tensor's operations.</summary>
    public IBackend Backend => Storage.Backend;

    /// <summary>The memory; throws <see cref="ObjectDisposedException"/> once disposed.</summary>
    public Storage Storage => _storage ?? throw new ObjectDisposedException(nameof(Tensor), $"The tensor {Shape} was disposed.");

    /// <summary>True once disposed.</summary>
    public bool IsDisposed => _storage == null;

    /// <summary>Whether gradients flow to this tensor. Set it on leaves (parameters, inputs you differentiate).</summary>
    public bool RequiresGrad { get; set; }

    /// <summary>The accumulated gradient of a leaf after <see cref="Backward(Tensor?)"/>; null before.</summary>
    public Tensor? Grad { get; internal set; }

    /// <summary>The autograd function that produced this tensor; null for leaves.</summary>
    internal Function? GradFn { get; set; }

    /// <summary>True when this tensor was not produced by a recorded operation.</summary>
    public bool IsLeaf => GradFn == null;

    /// <summary>The host buffer of a CPU tensor (length may exceed <see cref="Size"/> only for pooled views; use <see cref="Span"/>).</summary>
    internal float[] CpuData => (Storage as CpuStorage ?? throw new InvalidOperationException($"Tensor is on {Device}; this needs a CPU tensor.")).Data;

    /// <summary>The elements of a CPU tensor as a span.</summary>
    internal Span<float> Span => CpuData.AsSpan(0, Size);

    /// <summary>The elements of a CPU tensor, read-only. Throws for tensors on other devices.</summary>
    public ReadOnlySpan<float> AsReadOnlySpan() => Span;

    // ---- creation ---------------------------------------------------------------------------------

    /// <summary>An uninitialised tensor on <paramref name="device"/> (CPU by default).</summary>
    public static Tensor Empty(Shape shape, Device? device = null)
    {
        var backend = (device ?? Device.Cpu).Backend;
        return new Tensor(shape, backend.Allocate(shape.Size));
    }

    /// <summary>An uninitialised tensor on the same device as this one.</summary>
    internal Tensor EmptyLike(Shape? shape = null) => new(shape ?? Shape, Backend.Allocate((shape ?? Shape).Size));

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(Shape shape, Device? device = null) => Full(shape, 0f, device);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(Shape shape, Device? device = null) => Full(shape, 1f, device);

    /// <summary>A tensor filled with <paramref name="value"/>.</summary>
    public static Tensor Full(Shape shape, float value, Device? device = null)
    {
        var t = Empty(shape, device);
        t.Backend.Fill(t, value);
        return t;
    }

    /// <summary>A scalar (rank-0) tensor.</summary>
    public static Tensor Scalar(float value, Device? device = null) => Full(new Shape(), value, device);

    /// <summary>[start, start+step, ...) up to <paramref name="end"/> (exclusive), as a 1-D tensor.</summary>
    public static Tensor Arange(float start, float end, float step = 1f, Device? device = null)
    {
        if (step == 0 || (end - start) / step < 0)
        {
            throw new ArgumentException($"Arange: cannot go from {start} to {end} in steps of {step}.");
        }
        int n = (int)Math.Ceiling((end - start) / step);
        var data = new float[n];
        for (int i = 0; i < n; i++)
        {
            data[i] = start + i * step;
        }
        return FromArray(data, new Shape(n), device);
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>, which must have exactly shape.Size elements.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> data, Shape shape, Device? device = null)
    {
        if (data.Length != shape.Size)
        {
            throw new ArgumentException($"FromArray: {data.Length} values do not fill shape {shape} ({shape.Size} elements).");
        }
        var t = Empty(shape, device);
        t.Backend.Upload(data, t);
        return t;
    }

    /// <summary>A tensor holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray(float[] data, params int[] shape) => FromArray(data, new Shape(shape));

    /// <summary>Normally distributed values (Box–Muller from <paramref name="random"/>, so the same seed gives the same tensor).</summary>
    public static Tensor RandomNormal(Shape shape, Random random, float mean = 0f, float std = 1f, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        var data = new float[shape.Size];
        FillNormal(data, random, mean, std);
        return FromArray(data, shape, device);
    }

    /// <summary>Uniformly distributed values in [low, high).</summary>
    public static Tensor RandomUniform(Shape shape, Random random, float low = 0f, float high = 1f, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(random);
        var data = new float[shape.Size];
        FillUniform(data, random, low, high);
        return FromArray(data, shape, device);
    }

    /// <summary>Fills a span with normally distributed values drawn from <paramref name="random"/>.</summary>
    public static void FillNormal(Span<float> data, Random random, float mean, float std)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int i = 0; i < data.Length; i += 2)
        {
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            double r = Math.Sqrt(-2.0 * Math.Log(u1));
            data[i] = (float)(mean + std * r * Math.Cos(2 * Math.PI * u2));
            if (i + 1 < data.Length)
            {
                data[i + 1] = (float)(mean + std * r * Math.Sin(2 * Math.PI * u2));
            }
        }
    }

    /// <summary>Fills a span with uniformly distributed values in [low, high).</summary>
    public static void FillUniform(Span<float> data, Random random, float low, float high)
    {
        ArgumentNullException.ThrowIfNull(random);
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (float)(low + (high - low) * random.NextDouble());
        }
    }

    // ---- data out ---------------------------------------------------------------------------------

    /// <summary>Copies the elements to a new array (row-major).</summary>
    public float[] ToArray()
    {
        var a = new float[Size];
        Backend.Download(this, a);
        return a;
    }

    /// <summary>Copies the elements into <paramref name="destination"/>.</summary>
    public void CopyTo(Span<float> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"CopyTo: destination holds {destination.Length} elements, tensor {Shape} has {Size}.");
        }
        Backend.Download(this, destination[..Size]);
    }

    /// <summary>
    /// Moves on whenever the library's own paths overwrite this tensor's values in place: <see cref="CopyFrom"/> (so
    /// state-dictionary loads and initialisers), an optimizer step, a batch norm's running-statistics update, a move to
    /// another device. Caches derived from parameters (the folded weights of a convolution followed by an
    /// evaluation-mode batch norm) compare it to rebuild when stale; code that writes a parameter through a backend
    /// primitive directly calls <see cref="MarkChanged"/>.
    /// </summary>
    internal int Version { get; private set; }

    /// <summary>Records that the values were overwritten in place (see <see cref="Version"/>).</summary>
    internal void MarkChanged() => Version++;

    /// <summary>Overwrites the elements with <paramref name="source"/> (same element count). Not recorded by autograd.</summary>
    public void CopyFrom(ReadOnlySpan<float> source)
    {
        if (source.Length != Size)
        {
            throw new ArgumentException($"CopyFrom: {source.Length} values for tensor {Shape} ({Size} elements).");
        }
        Backend.Upload(source, this);
        MarkChanged();
    }

    /// <summary>The single value of a one-element tensor.</summary>
    public float ToScalar()
    {
        if (Size != 1)
        {
            throw new InvalidOperationException($"ToScalar needs a one-element tensor, got {Shape}.");
        }
        Span<float> v = stackalloc float[1];
        Backend.Download(this, v);
        return v[0];
    }

    /// <summary>The element at the given indices (slow; for tests and inspection).</summary>
    public float this[params int[] index]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(index);
            if (index.Length != Rank)
            {
                throw new ArgumentException($"Tensor {Shape} needs {Rank} indices, got {index.Length}.");
            }
            int flat = 0;
            for (int i = 0; i < Rank; i++)
            {
                if ((uint)index[i] >= (uint)Shape[i])
                {
                    throw new IndexOutOfRangeException($"Index {index[i]} out of range for axis {i} of {Shape}.");
                }
                flat = flat * Shape[i] + index[i];
            }
            return Device.Type == DeviceType.Cpu ? Span[flat] : ToArray()[flat];
        }
    }

    // ---- devices ----------------------------------------------------------------------------------

    /// <summary>
    /// This tensor on <paramref name="device"/>: itself when it is already there, else a copy (cut from the graph,
    /// <see cref="RequiresGrad"/> kept) that the current scope owns like any new tensor.
    /// </summary>
    public Tensor To(Device device)
    {
        var target = device.Backend;
        if (ReferenceEquals(target, Backend))
        {
            return this;
        }
        var copy = new Tensor(Shape, target.Allocate(Size)) { RequiresGrad = RequiresGrad };
        target.Upload(ToArray(), copy);
        return copy;
    }

    /// <summary>
    /// Moves the data (and the gradient, if any) to <paramref name="device"/> in place: the tensor object stays the same,
    /// so modules and optimizers holding it keep working. For leaves (parameters, buffers) only.
    /// </summary>
    internal void MoveTo(Device device)
    {
        MarkChanged();
        var target = device.Backend;
        if (ReferenceEquals(target, Backend))
        {
            return;
        }
        if (!IsLeaf)
        {
            throw new InvalidOperationException($"Only leaf tensors move in place; tensor {Shape} was produced by an operation.");
        }
        var values = ToArray();
        var storage = target.Allocate(Size);
        var old = Storage;
        _storage = storage;
        target.Upload(values, this);
        old.Release();
        Grad?.MoveTo(device);
    }

    // ---- lifetime ---------------------------------------------------------------------------------

    /// <summary>Releases the memory now (a reshape sharing it keeps it alive). Safe to call twice.</summary>
    public void Dispose()
    {
        if (_storage != null)
        {
            GradFn = null;
            ReleaseValues();
        }
    }

    /// <summary>
    /// Gives the memory back but keeps the tensor in the autograd graph (its shape and gradient function), for an
    /// intermediate whose values no backward pass reads. Reading it afterwards throws, as after <see cref="Dispose"/>.
    /// </summary>
    internal void ReleaseValues()
    {
        var s = _storage;
        _storage = null;
        s?.Release();
    }

    /// <summary>
    /// Moves this tensor from the scope that would dispose it to the enclosing scope (or to no scope, leaving
    /// it to you), and returns it. Use it to return results from a method that opens its own scope.
    /// </summary>
    public Tensor MoveToOuterScope()
    {
        if (_scope != null)
        {
            _scope.Unregister(this);
            _scope = _scope.Outer;
            _scope?.Register(this);
        }
        return this;
    }

    /// <summary>Takes this tensor out of any scope: you own it and must dispose it.</summary>
    public Tensor Unscope()
    {
        _scope?.Unregister(this);
        _scope = null;
        return this;
    }

    // ---- autograd ---------------------------------------------------------------------------------

    /// <summary>
    /// Computes gradients of this tensor with respect to every leaf that requires them, accumulating (+=) into
    /// their <see cref="Grad"/>. A non-scalar tensor needs <paramref name="gradient"/> of its own shape.
    /// The graph is freed as it is walked.
    /// </summary>
    public void Backward(Tensor? gradient = null) => Engine.Backward(this, gradient);

    /// <summary>
    /// <see cref="Backward"/> that also frees every intermediate tensor of the graph the current <see cref="TensorScope"/>
    /// created, each as soon as the backward pass no longer needs it, so that gradients reuse the activations' memory
    /// (a training step's peak then is its forward pass's). Read what you need of the intermediates (the logits for the
    /// accuracy, say) before calling it: afterwards they are disposed. This tensor itself stays.
    /// </summary>
    public void BackwardReleasingIntermediates(Tensor? gradient = null) => Engine.Backward(this, gradient, releaseIntermediates: true);

    /// <summary>A tensor sharing this one's memory, cut from the graph (no gradient flows through it).</summary>
    public Tensor Detach()
    {
        Storage.AddRef();
        return new Tensor(Shape, Storage);
    }

    /// <summary>Sets the gradient to zero (keeps its buffer).</summary>
    public void ZeroGrad()
    {
        if (Grad != null)
        {
            Backend.Fill(Grad, 0f);
        }
    }

    /// <summary>Drops the gradient buffer.</summary>
    public void ClearGrad()
    {
        Grad?.Dispose();
        Grad = null;
    }

    /// <summary>Formats the shape and (for small tensors) the values.</summary>
    public override string ToString()
    {
        if (IsDisposed)
        {
            return $"Tensor{Shape} (disposed)";
        }
        var sb = new StringBuilder($"Tensor{Shape}");
        if (Size <= 32)
        {
            sb.Append(" [");
            var a = ToArray();
            for (int i = 0; i < a.Length; i++)
            {
                sb.Append(i > 0 ? ", " : string.Empty).Append(a[i].ToString("G6", CultureInfo.InvariantCulture));
            }
            sb.Append(']');
        }
        return sb.ToString();
    }
}
