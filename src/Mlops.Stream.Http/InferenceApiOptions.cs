using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Mlops.Stream.Http.Internal;

namespace Mlops.Stream.Http;

/// <summary>
/// Section <c>Http:Inference</c>: limits of the Open Inference Protocol endpoints
/// (<see cref="InferenceApi"/>). Without <see cref="InferenceApiServiceCollectionExtensions.AddInferenceApi"/>
/// the endpoints run on these defaults.
/// </summary>
public sealed class InferenceApiOptions
{
    public const string Section = "Http:Inference";

    /// <summary>4 MiB: a few thousand rows of a tabular model, far below what a batch could hold.</summary>
    public const long DefaultMaxRequestBodyBytes = 4L * 1024 * 1024;

    /// <summary>Largest infer request body accepted; larger ones get 413 before anything is sent to the model.</summary>
    public long MaxRequestBodyBytes { get; set; } = DefaultMaxRequestBodyBytes;

    /// <summary>
    /// How long one infer call may wait for the serving side (queueing plus the batch run) before
    /// the caller gets 504. The request may still run after that; its result is dropped.
    /// </summary>
    public TimeSpan InferTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>Checks <see cref="InferenceApiOptions"/> at start; every message names the configuration key.</summary>
public sealed class InferenceApiOptionsValidator : IValidateOptions<InferenceApiOptions>
{
    public ValidateOptionsResult Validate(string? name, InferenceApiOptions options)
    {
        var failures = new List<string>();
        if (options.MaxRequestBodyBytes < 1)
        {
            failures.Add($"{InferenceApiOptions.Section}:{nameof(InferenceApiOptions.MaxRequestBodyBytes)} must be at least 1 (found {options.MaxRequestBodyBytes}).");
        }
        if (options.InferTimeout <= TimeSpan.Zero || options.InferTimeout == Timeout.InfiniteTimeSpan)
        {
            failures.Add($"{InferenceApiOptions.Section}:{nameof(InferenceApiOptions.InferTimeout)} must be a positive duration such as 00:00:30 (found {options.InferTimeout}).");
        }
        else if (options.InferTimeout.TotalMilliseconds > int.MaxValue)
        {
            failures.Add($"{InferenceApiOptions.Section}:{nameof(InferenceApiOptions.InferTimeout)} must be under 24 days (found {options.InferTimeout}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

public static class InferenceApiServiceCollectionExtensions
{
    /// <summary>
    /// Binds <see cref="InferenceApiOptions"/> from <see cref="InferenceApiOptions.Section"/>, applies
    /// <paramref name="configure"/> after the configuration (tests set limits this way) and validates
    /// the result when the host starts. The gateway (<c>IInferenceGateway</c>) is registered by the host.
    /// </summary>
    public static IServiceCollection AddInferenceApi(this IServiceCollection services, Action<InferenceApiOptions>? configure = null)
    {
        services.AddValidatedOptions<InferenceApiOptions, InferenceApiOptionsValidator>(InferenceApiOptions.Section, configure);
        return services;
    }
}
