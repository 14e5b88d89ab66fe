using System.Text.Json;
using System.Text.Json.Serialization;

namespace Mlops.Stream.Http;

// What the drift route (DriftApi) needs from the host, and what it answers. The host reads the
// model's drift topic; this project sees the window records as the JSON the topic holds.

/// <summary>One window record of a model's drift topic: its version, whether it drifted as a dataset, and the record as written.</summary>
public sealed record DriftWindowRecord(int Version, bool Drifted, JsonElement Window);

/// <summary>Reads back the latest windows a model's drift job wrote, so any node can answer for a job that runs on another.</summary>
public interface IDriftHistory
{
    /// <summary>
    /// The last <paramref name="scan"/> records (at most) of <paramref name="model"/>'s drift topic,
    /// oldest first; empty when the topic does not exist yet.
    /// </summary>
    /// <exception cref="BrokerUnavailableException">Kafka did not answer.</exception>
    Task<IReadOnlyList<DriftWindowRecord>> RecentAsync(string model, int scan, CancellationToken cancellationToken);
}

/// <summary><c>GET /api/v1/models/{model}/drift</c>: per version, newest version first, its latest windows, newest first.</summary>
public sealed record DriftStatusResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("versions")] IReadOnlyList<VersionDrift> Versions);

/// <summary>
/// One version's drift: <c>drift_detected</c> is its latest window's dataset verdict; <c>windows</c>
/// are the records of the drift topic (model, version, time and offset bounds, every statistic and
/// verdict; see <c>topics/drift.json</c>), newest first.
/// </summary>
public sealed record VersionDrift(
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("drift_detected")] bool DriftDetected,
    [property: JsonPropertyName("windows")] IReadOnlyList<JsonElement> Windows);
