namespace Mlops.Stream.Inference.Onnx;

/// <summary>
/// Where a model runs. <see cref="Auto"/> tries the CUDA execution provider and falls back to CPU
/// with one log line; <see cref="Cuda"/> fails the load when CUDA is unusable, for deployments that
/// would rather not start than silently serve from CPU.
/// </summary>
public enum ExecutionDevice
{
    Auto = 0,
    Cpu = 1,
    Cuda = 2,
}

public static class ExecutionDevices
{
    /// <summary>Parses "auto", "cpu" or "cuda" (case-insensitive), as configuration writes them.</summary>
    public static bool TryParse(string? text, out ExecutionDevice device)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "auto": device = ExecutionDevice.Auto; return true;
            case "cpu": device = ExecutionDevice.Cpu; return true;
            case "cuda" or "gpu": device = ExecutionDevice.Cuda; return true;
            default: device = default; return false;
        }
    }

    public static string ToConfigName(this ExecutionDevice device) => device switch
    {
        ExecutionDevice.Auto => "auto",
        ExecutionDevice.Cpu => "cpu",
        ExecutionDevice.Cuda => "cuda",
        _ => throw new ArgumentOutOfRangeException(nameof(device), device, "unknown device"),
    };
}
