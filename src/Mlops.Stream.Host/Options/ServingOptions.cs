using Microsoft.Extensions.Options;
using Mlops.Stream.Inference.Onnx;

namespace Mlops.Stream.Host.Options;

/// <summary>Section <c>Inference</c>: how models run and how long callers wait.</summary>
public sealed class ServingOptions
{
    public const string Section = "Inference";

    /// <summary><c>auto</c> (CUDA if present, else CPU), <c>cpu</c> or <c>cuda</c>.</summary>
    public string Device { get; set; } = "auto";

    /// <summary>ONNX Runtime intra-op threads per session; 0 lets ONNX Runtime choose.</summary>
    public int IntraOpThreads { get; set; }

    /// <summary>ONNX Runtime inter-op threads per session; 0 lets ONNX Runtime choose.</summary>
    public int InterOpThreads { get; set; }

    /// <summary>Kafka requests of one replica inside its batcher at once.</summary>
    public int KafkaInFlight { get; set; } = 256;

    /// <summary>Keep the replaced version loaded after a swap for an instant rollback (costs its memory).</summary>
    public bool KeepPreviousVersion { get; set; } = true;

    /// <summary>Automatic canary rollback (section <c>Inference:CanaryGuard</c>).</summary>
    public CanaryGuardOptions CanaryGuard { get; set; } = new();

    internal OnnxModelOptions ToOnnxOptions() => new()
    {
        Device = Enum.Parse<ExecutionDevice>(Device, ignoreCase: true),
        IntraOpThreads = IntraOpThreads,
        InterOpThreads = InterOpThreads,
    };
}

/// <summary>Off unless enabled: a canary is withdrawn when, over at least MinRequests, its error rate or p99 exceeds the limits.</summary>
public sealed class CanaryGuardOptions
{
    public bool Enabled { get; set; }
    public double MaxErrorRate { get; set; } = 0.05;
    public TimeSpan MaxP99 { get; set; } = TimeSpan.FromMilliseconds(500);
    public int MinRequests { get; set; } = 200;

    internal Mlops.Stream.Actors.Serving.CanaryGuard? ToGuard() => Enabled ? new(MaxErrorRate, MaxP99, MinRequests) : null;
}

public sealed class ServingOptionsValidator : IValidateOptions<ServingOptions>
{
    public ValidateOptionsResult Validate(string? name, ServingOptions options)
    {
        var failures = new List<string>();
        if (!Enum.TryParse<ExecutionDevice>(options.Device, ignoreCase: true, out _))
            failures.Add($"{ServingOptions.Section}:{nameof(ServingOptions.Device)} must be auto, cpu or cuda (found '{options.Device}').");
        if (options.IntraOpThreads < 0)
            failures.Add($"{ServingOptions.Section}:{nameof(ServingOptions.IntraOpThreads)} must be 0 (ONNX Runtime's choice) or more (found {options.IntraOpThreads}).");
        if (options.InterOpThreads < 0)
            failures.Add($"{ServingOptions.Section}:{nameof(ServingOptions.InterOpThreads)} must be 0 (ONNX Runtime's choice) or more (found {options.InterOpThreads}).");
        var guard = options.CanaryGuard;
        if (guard.MaxErrorRate is < 0 or > 1)
            failures.Add($"{ServingOptions.Section}:CanaryGuard:{nameof(CanaryGuardOptions.MaxErrorRate)} must be between 0 and 1 (found {guard.MaxErrorRate}).");
        if (guard.MaxP99 <= TimeSpan.Zero)
            failures.Add($"{ServingOptions.Section}:CanaryGuard:{nameof(CanaryGuardOptions.MaxP99)} must be positive (found {guard.MaxP99}).");
        if (guard.MinRequests < 1)
            failures.Add($"{ServingOptions.Section}:CanaryGuard:{nameof(CanaryGuardOptions.MinRequests)} must be at least 1 (found {guard.MinRequests}).");
        if (options.KafkaInFlight < 1)
            failures.Add($"{ServingOptions.Section}:{nameof(ServingOptions.KafkaInFlight)} must be at least 1 (found {options.KafkaInFlight}).");
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
