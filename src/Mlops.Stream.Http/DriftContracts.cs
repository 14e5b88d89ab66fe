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

/// <summary>One record of a model's served-events topic, as a baseline scan reads it.</summary>
public readonly record struct ServedRecord(byte[]? Value, int Partition, long Offset, DateTimeOffset Timestamp);

/// <summary>Reads a past window of a model's served events (<c>mlops.served.&lt;model&gt;.v1</c>) by record timestamp, for <c>mlops drift baseline</c>.</summary>
public interface IServedTraffic
{
    /// <summary>
    /// Hands every record of the model's served-events topic whose timestamp lies in
    /// [<paramref name="from"/>, <paramref name="to"/>] to <paramref name="each"/>, partition by
    /// partition, up to the end the topic had when the scan started. Returns the records handed over.
    /// </summary>
    /// <exception cref="BrokerUnavailableException">Kafka did not answer, or the window could not be read in the scan's time limit.</exception>
    Task<long> ScanAsync(string model, DateTimeOffset from, DateTimeOffset to, Action<ServedRecord> each, CancellationToken cancellationToken);
}

/// <summary>
/// <c>POST /api/v1/models/{model}/drift/baseline</c>: the version (default: production) whose
/// reference becomes a sample of the served traffic between <c>from</c> and <c>to</c>, at most
/// <c>max_rows</c> rows (default <see cref="DriftBaselineEndpoint.DefaultRows"/>).
/// </summary>
public sealed record DriftBaselineRequest(
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To,
    [property: JsonPropertyName("version")] int? Version = null,
    [property: JsonPropertyName("max_rows")] int? MaxRows = null);

/// <summary>
/// What a baseline did: the version's new reference sample (<c>rows</c> of the <c>rows_seen</c> finite
/// rows of <c>events</c> served events in the window), and what was left out, by kind.
/// </summary>
public sealed record DriftBaselineResponse(
    [property: JsonPropertyName("model")] string Model,
    [property: JsonPropertyName("version")] int Version,
    [property: JsonPropertyName("from")] DateTimeOffset From,
    [property: JsonPropertyName("to")] DateTimeOffset To,
    [property: JsonPropertyName("records")] long Records,
    [property: JsonPropertyName("events")] long Events,
    [property: JsonPropertyName("rows_seen")] long RowsSeen,
    [property: JsonPropertyName("rows")] int Rows,
    [property: JsonPropertyName("skipped")] IReadOnlyDictionary<string, int> Skipped);
