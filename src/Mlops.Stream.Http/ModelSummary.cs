using System.Text.Json.Serialization;
using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Http;

/// <summary>
/// One model in <c>/api/v1/models</c>: registry versions, the production alias, the version a
/// replica serves and its state (<c>not_serving</c>, <c>loading</c>, <c>ready</c>, <c>failed</c>;
/// see <see cref="ModelStates"/>) with the reason for the last two when there is one.
/// </summary>
public sealed record ModelSummary(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("versions")] IReadOnlyList<int> Versions,
    [property: JsonPropertyName("production_version")] int? ProductionVersion,
    [property: JsonPropertyName("serving_version")] int? ServingVersion,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("reason")] string? Reason)
{
    public static ModelSummary From(ModelStatus status) => new(
        status.Name,
        status.Versions,
        status.ProductionVersion,
        status.ServingVersion,
        ModelStates.ToWireName(status.State),
        status.Reason);
}
