using System.Text.Json;
using System.Text.Json.Serialization;
using Mlops.Stream.Inference.Wire.Internal;

namespace Mlops.Stream.Inference.Wire;

/// <summary>
/// A v2 inference response. <see cref="ModelVersion"/> is a string as the protocol specifies;
/// it carries the registry version that actually served the request (canary or production).
/// </summary>
[JsonConverter(typeof(InferenceResponseJsonConverter))]
public sealed record InferenceResponse(string Id, string ModelName, string ModelVersion, IReadOnlyList<Tensor> Outputs)
{
    public IReadOnlyDictionary<string, JsonElement>? Parameters { get; init; }

    public Tensor? FindOutput(string name)
    {
        foreach (var output in Outputs)
        {
            if (output.Name == name)
            {
                return output;
            }
        }

        return null;
    }
}
