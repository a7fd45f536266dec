using Microsoft.ML.ConvNet.Backends;
using Microsoft.ML.ConvNet.Backends.Cuda.Interop;

namespace Microsoft.ML.ConvNet.Cli.Commands;

/// <summary>The <c>--device</c> option of the commands: cpu, cuda, cuda:N or auto.</summary>
internal static class CliDevice
{
    /// <summary>
    /// Parses <paramref name="text"/> (<see cref="Device.Parse"/>; anything else is a usage error) and starts its backend,
    /// so a GPU that cannot be used fails here, before any data is read, as a failure naming what is missing.
    /// </summary>
    public static Device Resolve(string command, string text)
    {
        Device device;
        try
        {
            device = Device.Parse(text);
        }
        catch (FormatException e)
        {
            throw new UsageException(command, $"--device {text}: {e.Message}");
        }
        try
        {
            _ = device.Backend;
        }
        catch (Exception e) when (e is DllNotFoundException or CudaException or ArgumentOutOfRangeException)
        {
            throw new CliFailureException($"--device {text} ({device}): {e.Message} Use --device cpu or --device auto instead.");
        }
        return device;
    }
}
