namespace Microsoft.ML.ConvNet.Optimizers.Schedulers;

/// <summary>
/// Changes an optimizer's learning rate as training goes on. Call <see cref="Step"/> once per epoch, after
/// the epoch's optimizer steps (PyTorch's order). Epoch 0 uses the learning rate the optimizer had when the
/// scheduler was created (<see cref="BaseLearningRate"/>).
/// </summary>
public abstract class LearningRateScheduler
{
    /// <summary>Attaches the scheduler to <paramref name="optimizer"/> and sets the epoch-0 learning rate.</summary>
    protected LearningRateScheduler(Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        BaseLearningRate = optimizer.LearningRate;
        LastLearningRate = BaseLearningRate;
    }

    /// <summary>The optimizer whose learning rate is set.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The optimizer's learning rate when the scheduler was created.</summary>
    public float BaseLearningRate { get; }

    /// <summary>The epoch the current learning rate belongs to (0 before the first <see cref="Step"/>).</summary>
    public int LastEpoch { get; private set; }

    /// <summary>The learning rate set by the last <see cref="Step"/> (the base rate before any).</summary>
    public float LastLearningRate { get; private set; }

    /// <summary>Moves to the next epoch and sets the optimizer's learning rate for it.</summary>
    public virtual void Step()
    {
        LastEpoch++;
        LastLearningRate = LearningRateAt(LastEpoch);
        Optimizer.LearningRate = LastLearningRate;
    }

    /// <summary>The learning rate for <paramref name="epoch"/> (0-based), from <see cref="BaseLearningRate"/>.</summary>
    public abstract float LearningRateAt(int epoch);
}
