using Microsoft.ML.ConvNet.Backends.Cpu;
using Microsoft.ML.ConvNet.Backends.Cuda;

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

    /// <summary>
    /// The best available device: <c>cuda:0</c> when a GPU and the CUDA libraries are usable, else the CPU. Probed once
    /// per process; never throws. <see cref="CudaBackend.Availability"/> tells why CUDA was not chosen.
    /// </summary>
    public static Device Auto => CudaBackend.Availability.IsAvailable ? Cuda(0) : Cpu;

    /// <summary>GPU number <paramref name="index"/>.</summary>
    public static Device Cuda(int index = 0) => new(DeviceType.Cuda, index);

    /// <summary>The backend that runs operations on this device.</summary>
    public IBackend Backend => Type switch
    {
        DeviceType.Cpu => CpuBackend.Instance,
        DeviceType.Cuda => CudaBackend.Get(Index),
        _ => throw new NotSupportedException($"Device {this} has no backend."),
    };

    /// <summary>Parses "cpu", "cuda", "cuda:N" or "auto" (case-insensitive); errors list the accepted forms.</summary>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string t = text.Trim().ToLowerInvariant();
        if (t == "cpu")
        {
            return Cpu;
        }
        if (t == "auto")
        {
            return Auto;
        }
        if (t == "cuda" || t == "gpu")
        {
            return Cuda(0);
        }
        if (t.StartsWith("cuda:", StringComparison.Ordinal)
            && int.TryParse(t.AsSpan(5), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int index))
        {
            return Cuda(index);
        }
        throw new FormatException($"Unknown device '{text}'; expected cpu, cuda, cuda:N or auto.");
    }

    /// <inheritdoc/>
    public override string ToString() => Type == DeviceType.Cpu ? "cpu" : $"cuda:{Index}";
}
