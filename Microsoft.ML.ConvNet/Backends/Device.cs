using Microsoft.ML.ConvNet.Backends.Cpu;

namespace Microsoft.ML.ConvNet.Backends;

/// <summary>The kind of device a tensor lives on.</summary>
public enum DeviceType
{
    /// <summary>Host memory, managed SIMD kernels.</summary>
    Cpu,

    /// <summary>An NVIDIA GPU through CUDA, cuDNN and cuBLAS.</summary>
    Cuda,
}

/// <summary>A compute device: <see cref="Cpu"/>, <c>Cuda(index)</c>, or <see cref="Auto"/> (resolved at use).</summary>
public readonly record struct Device(DeviceType Type, int Index = 0)
{
    /// <summary>The CPU.</summary>
    public static Device Cpu { get; } = new(DeviceType.Cpu);

    /// <summary>The best available device; CPU until a GPU backend is present.</summary>
    public static Device Auto => Cpu;

    /// <summary>GPU number <paramref name="index"/>.</summary>
    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    /// <summary>The backend that runs operations on this device.</summary>
    public IBackend Backend => Type switch
    {
        DeviceType.Cpu => CpuBackend.Instance,
        _ => throw new NotSupportedException($"Device {this} has no backend in this build; use Device.Cpu."),
    };

    /// <inheritdoc/>
    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";
}
