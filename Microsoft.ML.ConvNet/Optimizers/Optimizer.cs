using Microsoft.ML.ConvNet.Tensors;

namespace Microsoft.ML.ConvNet.Optimizers;

/// <summary>
/// Base of the optimizers: holds the parameters and per-parameter state; <see cref="Step"/> updates every
/// parameter that has a gradient, in place, without recording autograd. Dispose releases the state buffers.
/// </summary>
public abstract class Optimizer : IDisposable
{
    private bool _disposed;

    /// <summary>Creates an optimizer over <paramref name="parameters"/> (frozen ones are skipped at each step).</summary>
    protected Optimizer(IEnumerable<Tensor> parameters, float learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(learningRate > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(learningRate), $"The learning rate must be positive, got {learningRate}.");
        }
        Parameters = parameters.ToList();
        LearningRate = learningRate;
        InitialLearningRate = learningRate;
        _scales = Enumerable.Repeat(1f, Parameters.Count).ToArray();
    }

    private readonly float[] _scales;

    /// <summary>
    /// Multiplies the learning rate of <paramref name="parameters"/> by <paramref name="factor"/> (PyTorch's parameter
    /// groups, e.g. a pretrained body at a tenth of the head's rate); schedulers scale every rate alike.
    /// </summary>
    /// <exception cref="ArgumentException">A parameter is not one of this optimizer's, or the factor is not positive.</exception>
    public void ScaleLearningRate(IEnumerable<Tensor> parameters, float factor)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(factor > 0f))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), $"The learning-rate factor must be positive, got {factor}.");
        }
        var index = new Dictionary<Tensor, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < Parameters.Count; i++)
        {
            index[Parameters[i]] = i;
        }
        foreach (var p in parameters)
        {
            if (!index.TryGetValue(p, out int i))
            {
                throw new ArgumentException($"A tensor of shape {p.Shape} is not a parameter of this optimizer.", nameof(parameters));
            }
            _scales[i] = factor;
        }
    }

    /// <summary>The learning rate of parameter number <paramref name="index"/>: <see cref="LearningRate"/> times its factor.</summary>
    protected float LearningRateOf(int index) => LearningRate * _scales[index];

    /// <summary>The parameters being optimised.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>The current learning rate (schedulers change it).</summary>
    public float LearningRate { get; set; }

    /// <summary>The learning rate the optimizer was created with.</summary>
    public float InitialLearningRate { get; }

    /// <summary>Number of steps taken.</summary>
    public int StepCount { get; private set; }

    /// <summary>Applies one update to every parameter that has a gradient.</summary>
    public void Step()
    {
        StepCount++;
        using var _ = new NoGradScope();
        for (int i = 0; i < Parameters.Count; i++)
        {
            var p = Parameters[i];
            if (p.Grad != null && p.RequiresGrad)
            {
                Update(i, p, p.Grad);
                p.MarkChanged();
            }
        }
    }

    /// <summary>Updates parameter number <paramref name="index"/> in place from its gradient.</summary>
    protected abstract void Update(int index, Tensor parameter, Tensor gradient);

    /// <summary>Sets every parameter's gradient to zero.</summary>
    public void ZeroGrad()
    {
        foreach (var p in Parameters)
        {
            p.ZeroGrad();
        }
    }

    /// <summary>A zero-filled state buffer shaped like <paramref name="parameter"/>, owned by the optimizer.</summary>
    protected static Tensor StateLike(Tensor parameter)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        return Tensor.Zeros(parameter.Shape, parameter.Device).Unscope();
    }

    /// <summary>Releases the state buffers.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            DisposeState();
        }
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases subclass state buffers.</summary>
    protected abstract void DisposeState();
}
