using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Net.Http.Headers;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Http;

/// <summary>
/// <c>GET /api/v1/models/{model}/tail/{predictions|served|dlq}?from=end|beginning&amp;limit=N</c>:
/// the model's output topic as NDJSON (<c>application/x-ndjson</c>), one record per line, flushed as
/// it arrives, until <c>limit</c> records, the client hangs up or the node stops. Headers are sent
/// once the start position is fixed on every partition, so a caller that has them sees every record
/// written afterwards. At most <see cref="TopicsApi.MaxConcurrentTails"/> tails run at once; more
/// get 429 <c>too_many_tails</c>. If Kafka fails after the headers went out, the last line is an
/// error body (<c>{"error","code"}</c>).
/// </summary>
public static class TailEndpoint
{
    public const string ContentType = "application/x-ndjson";

    /// <summary>Largest <c>limit</c>; without one the tail follows until the client leaves.</summary>
    public const int MaxLimit = 1_000_000;

    /// <summary>Seconds a refused tail is told to wait; tails end when their clients leave, so slots free up at any time.</summary>
    private const string RetryAfterSeconds = "5";

    internal static async Task<IResult> OpenAsync(string model, string stream, string? from, int? limit, HttpContext http,
        IModelRegistry registry, IModelTopicTail tail, TailSlots slots, IHostApplicationLifetime lifetime, ILoggerFactory loggers)
    {
        if (!TryParseStream(stream, out var which))
            return TopicsApi.Error(StatusCodes.Status400BadRequest, $"'{stream}' is not a tail: use predictions, served or dlq", HttpErrorCodes.BadRequest);
        if (!TryParseStart(from, out var start))
            return TopicsApi.Error(StatusCodes.Status400BadRequest, $"from='{from}' is not a start: use end or beginning", HttpErrorCodes.BadRequest);
        if (limit is < 1 or > MaxLimit)
            return TopicsApi.Error(StatusCodes.Status400BadRequest, $"limit must be from 1 to {MaxLimit} (got {limit})", HttpErrorCodes.BadRequest);

        var cancellationToken = http.RequestAborted;
        if (!await TopicsApi.IsRegisteredAsync(registry, model, cancellationToken)) return TopicsApi.ModelNotFound(model);

        var lease = slots.TryTake();
        if (lease is null)
        {
            http.Response.Headers.RetryAfter = RetryAfterSeconds;
            return TopicsApi.Error(StatusCodes.Status429TooManyRequests,
                $"all {slots.Capacity} tail slots of this node are in use; close a tail and try again", TopicsErrorCodes.TooManyTails);
        }

        try
        {
            var session = await tail.OpenAsync(model, which, start, cancellationToken);
            if (session is null)
            {
                lease.Dispose();
                return TopicsApi.Error(StatusCodes.Status404NotFound,
                    $"model '{model}' has no {stream} topic yet; its replica creates it when the model starts serving", TopicsErrorCodes.TopicNotFound);
            }
            return new NdjsonTail(session, lease, limit ?? int.MaxValue, lifetime.ApplicationStopping, loggers.CreateLogger(typeof(TailEndpoint).FullName!));
        }
        catch (BrokerUnavailableException e)
        {
            lease.Dispose();
            return TopicsApi.KafkaUnavailable(e);
        }
        catch
        {
            lease.Dispose();
            throw;
        }
    }

    private static bool TryParseStream(string text, out ModelStream stream)
    {
        (var known, stream) = text switch
        {
            "predictions" => (true, ModelStream.Predictions),
            "served" => (true, ModelStream.Served),
            "dlq" => (true, ModelStream.DeadLetters),
            _ => (false, default),
        };
        return known;
    }

    private static bool TryParseStart(string? text, out TailStart start)
    {
        (var known, start) = text switch
        {
            null or "" or "end" => (true, TailStart.End),
            "beginning" => (true, TailStart.Beginning),
            _ => (false, default),
        };
        return known;
    }

    /// <summary>Streams an open tail; owns the session and the slot lease and releases both when the response ends.</summary>
    private sealed class NdjsonTail(ITailSession session, IDisposable lease, int limit, CancellationToken nodeStopping, ILogger logger) : IResult
    {
        public async Task ExecuteAsync(HttpContext http)
        {
            using var slot = lease;
            await using var tail = session;
            // The node stopping ends every tail, or a graceful shutdown would wait for idle clients.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, nodeStopping);
            var response = http.Response;
            response.ContentType = ContentType;
            response.Headers.CacheControl = "no-cache";
            // Reverse proxies (nginx) buffer responses unless told not to; a tail must arrive as it happens.
            response.Headers["X-Accel-Buffering"] = "no";
            try
            {
                await response.StartAsync(stop.Token);
                await response.BodyWriter.FlushAsync(stop.Token);
                for (var written = 0; written < limit; written++)
                {
                    TailLine.Write(response.BodyWriter, await tail.NextAsync(stop.Token));
                    await response.BodyWriter.FlushAsync(stop.Token);
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The client hung up or the node is stopping: the tail simply ends.
            }
            catch (IOException) when (http.RequestAborted.IsCancellationRequested)
            {
            }
            catch (BrokerUnavailableException e)
            {
                // The status line is long gone; the last line says why the stream ends.
                logger.LogWarning("Tail of {Topic} ended: {Reason}", tail.Topic, e.Message);
                TailLine.WriteError(response.BodyWriter, new ErrorResponse(e.Message, TopicsErrorCodes.KafkaUnavailable));
                await response.BodyWriter.FlushAsync(CancellationToken.None);
            }
        }
    }
}
