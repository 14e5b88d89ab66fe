using System.Text.Json;
using System.Text.Json.Serialization;
using Mlops.Stream.Inference.Wire.Internal;

namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// A decoded Open Inference Protocol request. <see cref="Id"/> is required here (v2 makes it
/// optional) because every prediction, served event and dead letter is keyed by it.
/// </summary>
[JsonConverter(typeof(InferenceRequestJsonConverter))]
public sealed record InferenceRequest(string Id, IReadOnlyList<Tensor> Inputs)
{
    /// <summary>Output names the caller asked for; null means all outputs.</summary>
    public IReadOnlyList<string>? RequestedOutputs { get; init; }

    /// <summary>Request-level v2 "parameters", passed through unchanged.</summary>
    public IReadOnlyDictionary<string, JsonElement>? Parameters { get; init; }

    public Tensor? FindInput(string name)
    {
        foreach (var input in Inputs)
        {
            if (input.Name == name)
            {
                return input;
            }
        }

        return null;
    }
}
