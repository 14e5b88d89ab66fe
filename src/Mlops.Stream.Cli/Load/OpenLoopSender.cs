using System.Buffers;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Mlops.Stream.Cli.Load;

/// <summary>
/// An open-loop generator: request i is due at <c>start + i / rate</c> whatever the node's answers
/// do, and each request's latency is measured from that intended time, so a slow node cannot slow
/// the offered load down and hide its own delay (no coordinated omission). Due requests go out in
/// small batches through <c>POST /api/v1/models/{model}/requests</c>; at most
/// <see cref="MaxInFlight"/> batches wait for answers at once, and requests that fall due meanwhile
/// join the next batch, so memory stays bounded even when the node stalls.
/// </summary>
internal sealed class OpenLoopSender(AdminClient client, string model, RequestFactory requests, LoadTracker tracker, string idPrefix)
{
    /// <summary>Requests per produce call at most (the node accepts 1000).</summary>
    public const int MaxBatch = 100;

    /// <summary>Bytes per produce call at most (the node accepts 16 MiB).</summary>
    public const int MaxBatchBytes = 4 * 1024 * 1024;

    /// <summary>Produce calls waiting for the node at once.</summary>
    public const int MaxInFlight = 16;

    /// <summary>
    /// Batches leave at most this often (unless the last one was full), so a high rate means fuller
    /// batches, not more calls than the node's per-caller rate limit allows. The wait is measured:
    /// latency counts from each request's intended time.
    /// </summary>
    public static readonly TimeSpan MinBatchInterval = TimeSpan.FromMilliseconds(5);

    /// <summary>Sends <paramref name="total"/> requests at <paramref name="rate"/> per second; returns when every batch is answered, with the time the last one left.</summary>
    public async Task<TimeSpan> RunAsync(double rate, long total, Stopwatch clock, CancellationToken ct)
    {
        var slots = new SemaphoreSlim(MaxInFlight, MaxInFlight);
        long next = 0;
        var earliestNext = TimeSpan.Zero;
        while (next < total)
        {
            var now = clock.Elapsed;
            var due = Math.Min(total, (long)Math.Floor(now.TotalSeconds * rate) + 1);
            if (due <= next || now < earliestNext)
            {
                var wait = Max(Intended(next, rate), earliestNext) - now;
                // Task.Delay rounds down to whole milliseconds; never spin on a zero delay.
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, Math.Ceiling(wait.TotalMilliseconds))), ct);
                continue;
            }
            await slots.WaitAsync(ct);
            var batch = Build(next, due, rate);
            next += batch.Ids.Count;
            tracker.Dispatching(batch.Ids.Zip(batch.Intended));
            _ = SendAsync(batch, slots, ct);
            earliestNext = batch.Ids.Count == MaxBatch ? TimeSpan.Zero : clock.Elapsed + MinBatchInterval;
        }
        var lastDispatch = clock.Elapsed;
        // Every slot back means every batch has its answer.
        for (var i = 0; i < MaxInFlight; i++) await slots.WaitAsync(ct);
        return lastDispatch;
    }

    private static TimeSpan Intended(long index, double rate) => TimeSpan.FromSeconds(index / rate);

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    /// <summary>Requests <paramref name="first"/> up to <paramref name="due"/> as one JSON array, cut at <see cref="MaxBatch"/> or <see cref="MaxBatchBytes"/>.</summary>
    private Batch Build(long first, long due, double rate)
    {
        var ids = new List<string>();
        var intended = new List<TimeSpan>();
        var body = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartArray();
            for (var index = first; index < due && ids.Count < MaxBatch && writer.BytesCommitted + writer.BytesPending < MaxBatchBytes; index++)
            {
                var id = idPrefix + index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                requests.Write(writer, id);
                ids.Add(id);
                intended.Add(Intended(index, rate));
            }
            writer.WriteEndArray();
        }
        return new Batch(ids, intended, body.WrittenSpan.ToArray());
    }

    /// <summary>Posts one batch; never throws: a failure counts its requests as failed.</summary>
    private async Task SendAsync(Batch batch, SemaphoreSlim slots, CancellationToken ct)
    {
        try
        {
            using var content = new ByteArrayContent(batch.Body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            var answer = await client.PostAsync($"api/v1/models/{AdminClient.Segment(model)}/requests", content,
                KafkaJsonContext.Default.ProducedRequestsDto, ct);
            tracker.Produced(answer.Value.Records.Select(r => (r.Id, r.Timestamp)));
        }
        catch (CliException e)
        {
            tracker.SendFailed(batch.Ids, e);
        }
        catch (OperationCanceledException)
        {
            tracker.SendFailed(batch.Ids, new CliException(ExitCodes.Unavailable, "cancelled before the node answered"));
        }
        finally
        {
            slots.Release();
        }
    }

    private sealed record Batch(IReadOnlyList<string> Ids, IReadOnlyList<TimeSpan> Intended, byte[] Body);
}
