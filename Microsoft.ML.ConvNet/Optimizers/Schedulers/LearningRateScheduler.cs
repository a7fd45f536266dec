namespace Microsoft.ML.ConvNet.Optimizers.Schedulers;

/// <summary>When a <see cref="LearningRateScheduler"/> is stepped by the training loop.</summary>
public enum SchedulerStepping
{
    /// <summary>Once after every epoch (PyTorch's usual place for <c>scheduler.step()</c>).</summary>
    Epoch,

    /// <summary>Once after every optimizer step (one-cycle, warm-up in steps, cosine per step).</summary>
    Batch,
}

/// <summary>
/// Changes an optimizer's learning rate as training goes on. Training loops such as <c>Trainer.Fit</c> call <see cref="Step()"/>
/// after every epoch or, when <see cref="Stepping"/> is <see cref="SchedulerStepping.Batch"/>, after every optimizer
/// step (PyTorch's order: the step's update uses the rate set before it). Step 0 uses the learning rate the optimizer
/// had when the scheduler was created (<see cref="BaseLearningRate"/>), unless the schedule starts elsewhere (one-cycle,
/// warm-up), in which case the constructor or <see cref="SetTrainingLength"/> sets it.
/// </summary>
public abstract class LearningRateScheduler
{
    /// <summary>Attaches the scheduler to <paramref name="optimizer"/> and sets the step-0 learning rate.</summary>
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

    /// <summary>
    /// The number of <see cref="Step()"/> calls so far: the epoch, or with <see cref="SchedulerStepping.Batch"/> the
    /// optimizer step, the current learning rate belongs to (PyTorch's <c>last_epoch</c>).
    /// </summary>
    public int LastEpoch { get; private set; }

    /// <summary>The learning rate set by the last <see cref="Step()"/> (the step-0 rate before any).</summary>
    public float LastLearningRate { get; private set; }

    /// <summary>When the training loop steps this scheduler (default <see cref="SchedulerStepping.Epoch"/>).</summary>
    public virtual SchedulerStepping Stepping => SchedulerStepping.Epoch;

    /// <summary>
    /// Tells the scheduler how long training runs, before its first step: schedules whose length was left open (e.g.
    /// <c>new CosineAnnealingLR(optimizer)</c>, <c>new OneCycleLR(optimizer, 0.01f)</c>) span exactly the run.
    /// <c>Trainer.Fit</c> calls it; call it yourself in a loop of your own.
    /// </summary>
    /// <param name="epochs">Epochs of the run.</param>
    /// <param name="stepsPerEpoch">Optimizer steps per epoch.</param>
    public void SetTrainingLength(int epochs, int stepsPerEpoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epochs);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerEpoch, 1);
        OnTrainingLength(Stepping == SchedulerStepping.Batch ? (long)epochs * stepsPerEpoch : epochs);
        if (LastEpoch == 0)
        {
            ApplyStepZero();
        }
    }

    /// <summary>
    /// Receives the run's length in this scheduler's own units (epochs, or optimizer steps with
    /// <see cref="SchedulerStepping.Batch"/>); schedules whose length was left open adopt it.
    /// </summary>
    protected internal virtual void OnTrainingLength(long totalSteps)
    {
    }

    /// <summary>Sets the optimizer to the step-0 rate of the schedule (constructors of schedules that do not start at the base rate call it).</summary>
    protected void ApplyStepZero()
    {
        LastLearningRate = LearningRateAt(0);
        Optimizer.LearningRate = LastLearningRate;
    }

    /// <summary>Moves to the next epoch (or step) and sets the optimizer's learning rate for it.</summary>
    public virtual void Step()
    {
        LastEpoch++;
        LastLearningRate = LearningRateAt(LastEpoch);
        Optimizer.LearningRate = LastLearningRate;
    }

    /// <summary>
    /// Moves on after an epoch whose watched metric was <paramref name="metric"/> (the training loop passes the
    /// validation loss, or the training loss without validation data). Schedules that do not watch a metric ignore it.
    /// </summary>
    public virtual void Step(double metric) => Step();

    /// <summary>Records a learning rate set by a metric-driven schedule for the step it moved to.</summary>
    protected void SetStep(int step, float learningRate)
    {
        LastEpoch = step;
        LastLearningRate = learningRate;
        Optimizer.LearningRate = learningRate;
    }

    /// <summary>The learning rate for <paramref name="epoch"/> (0-based; an optimizer step with <see cref="SchedulerStepping.Batch"/>).</summary>
    public abstract float LearningRateAt(int epoch);
}
