namespace Microsoft.ML.ConvNet.Tensors;

/// <summary>
/// Collects every tensor created on this thread while it is the innermost open scope, and disposes them
/// when the scope is disposed, returning their buffers to the <see cref="BufferPool"/>. Use one scope per
/// training step or inference batch; keep a result past the scope with <see cref="Tensor.MoveToOuterScope"/>
/// or copy it out (e.g. <see cref="Tensor.ToArray"/>). Scopes nest.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic]
    private static TensorScope? _current;

    private readonly List<Tensor> _tensors = new();
    private readonly TensorScope? _outer;
    private bool _disposed;

    /// <summary>Opens a scope on the current thread.</summary>
    public TensorScope()
    {
        _outer = _current;
        _current = this;
    }

    /// <summary>The innermost open scope on this thread, if any.</summary>
    public static TensorScope? Current => _current;

    /// <summary>Number of tensors this scope will dispose.</summary>
    public int Count => _tensors.Count;

    internal void Register(Tensor t) => _tensors.Add(t);

    internal void Unregister(Tensor t)
    {
        int i = _tensors.LastIndexOf(t);
        if (i >= 0)
        {
            _tensors.RemoveAt(i);
        }
    }

    internal bool Owns(Tensor t) => _tensors.LastIndexOf(t) >= 0;

    /// <summary>
    /// Disposes <paramref name="t"/> now when the innermost scope collected it, so that its buffer goes back to the pool
    /// for the next operation instead of waiting for the end of the scope; a tensor the scope does not own is left alone.
    /// </summary>
    internal static void ReleaseEarly(Tensor t)
    {
        var scope = _current;
        if (scope == null)
        {
            return;
        }
        int i = scope._tensors.LastIndexOf(t);
        if (i >= 0)
        {
            scope._tensors.RemoveAt(i);
            t.Dispose();
        }
    }

    internal TensorScope? Outer => _outer;

    /// <summary>Disposes every tensor the scope collected and restores the enclosing scope.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        if (_current == this)
        {
            _current = _outer;
        }
        for (int i = _tensors.Count - 1; i >= 0; i--)
        {
            _tensors[i].Dispose();
        }
        _tensors.Clear();
    }
}

/// <summary>
/// While open, operations record no autograd graph (inference, evaluation, optimizer updates).
/// <code>using (new NoGradScope()) { var y = model.Forward(x); }</code>
/// </summary>
public sealed class NoGradScope : IDisposable
{
    [ThreadStatic]
    private static int _depth;
    private bool _disposed;

    /// <summary>Turns gradient recording off on this thread until disposed.</summary>
    public NoGradScope() => _depth++;

    /// <summary>True when an operation on this thread should record the graph.</summary>
    public static bool IsGradEnabled => _depth == 0;

    /// <summary>Restores recording.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _depth--;
        }
    }

    /// <summary>Turns recording on for this thread, even inside open scopes, until the returned object is disposed.</summary>
    internal static IDisposable EnableGrad() => new Suspension(_depth);

    private sealed class Suspension : IDisposable
    {
        private readonly int _saved;
        private bool _disposed;

        public Suspension(int saved)
        {
            _saved = saved;
            _depth = 0;
        }

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                _depth = _saved;
            }
        }
    }
}
