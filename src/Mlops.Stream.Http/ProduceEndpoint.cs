using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Mlops.Stream.Http.Internal;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Http;

/// <summary>
/// <c>POST /api/v1/models/{model}/requests</c> with a JSON array of Open Inference Protocol v2
/// requests: writes each, byte for byte as sent, to the model's request topic with the request
/// <c>id</c> as key and <c>mlops-request-id</c> header, and answers where each landed (partition,
/// offset, Kafka timestamp) in the order sent. Each request needs a string <c>id</c>; everything else
/// is the serving pipeline's to judge, so a malformed request is written too and ends up in the
/// model's dead-letter topic, exactly as from any other producer.
/// </summary>
internal static class ProduceEndpoint
{
    private static readonly JsonDocumentOptions BodyOptions = new() { MaxDepth = 64 };

    public static async Task<IResult> ProduceAsync(string model, HttpContext http, IModelRegistry registry, IRequestProducer producer)
    {
        var cancellationToken = http.RequestAborted;
        if (!await TopicsApi.IsRegisteredAsync(registry, model, cancellationToken)) return TopicsApi.ModelNotFound(model);

        ReadOnlyMemory<byte> body;
        try
        {
            if (await RequestBodyReader.ReadAsync(http.Request, TopicsApi.MaxProduceBodyBytes, cancellationToken) is not { } read)
                return TopicsApi.Error(StatusCodes.Status413PayloadTooLarge,
                    $"request body is larger than the limit of {TopicsApi.MaxProduceBodyBytes} bytes; send smaller batches", HttpErrorCodes.BodyTooLarge);
            body = read;
        }
        catch (BadHttpRequestException e)
        {
            return TopicsApi.Error(StatusCodes.Status400BadRequest, e.Message, HttpErrorCodes.BadRequest);
        }

        List<RequestRecord> requests;
        try
        {
            using var document = JsonDocument.Parse(body, BodyOptions);
            if (Problem(document.RootElement) is { } problem) return problem;
            requests = [.. document.RootElement.EnumerateArray().Select(ToRecord)];
        }
        catch (JsonException e)
        {
            return TopicsApi.Error(StatusCodes.Status400BadRequest, $"the body is not valid JSON: {e.Message}", HttpErrorCodes.BadRequest);
        }

        try
        {
            return await producer.ProduceAsync(model, requests, cancellationToken) switch
            {
                ProduceOutcome.Written written => TypedResults.Ok(new ProducedRequestsResponse(model, written.Topic, written.Records)),
                ProduceOutcome.TopicMissing missing => TopicsApi.Error(StatusCodes.Status503ServiceUnavailable,
                    $"topic '{missing.Topic}' does not exist yet; the model's replica creates it when the model starts serving", TopicsErrorCodes.TopicNotFound),
                ProduceOutcome.Failed failed => TopicsApi.Error(StatusCodes.Status503ServiceUnavailable, failed.Message, TopicsErrorCodes.KafkaUnavailable),
                _ => TopicsApi.Error(StatusCodes.Status500InternalServerError, "unexpected produce outcome", HttpErrorCodes.Internal),
            };
        }
        catch (BrokerUnavailableException e)
        {
            return TopicsApi.KafkaUnavailable(e);
        }
    }

    /// <summary>Why the body is not a batch of requests, or null when it is one.</summary>
    private static IResult? Problem(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Array)
            return TopicsApi.Error(StatusCodes.Status400BadRequest, "the body must be a JSON array of v2 inference requests", HttpErrorCodes.BadRequest);
        var count = root.GetArrayLength();
        if (count == 0)
            return TopicsApi.Error(StatusCodes.Status400BadRequest, "the array holds no requests", HttpErrorCodes.BadRequest);
        if (count > TopicsApi.MaxProduceBatch)
            return TopicsApi.Error(StatusCodes.Status413PayloadTooLarge,
                $"{count} requests in one call; at most {TopicsApi.MaxProduceBatch} are accepted, send smaller batches", TopicsErrorCodes.BatchTooLarge);
        var index = 0;
        foreach (var request in root.EnumerateArray())
        {
            if (request.ValueKind != JsonValueKind.Object
                || !request.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(id.GetString()))
                return TopicsApi.Error(StatusCodes.Status400BadRequest,
                    $"request [{index}] has no string 'id'; it becomes the record key and the mlops-request-id header", HttpErrorCodes.BadRequest);
            index++;
        }
        return null;
    }

    /// <summary>The request's own bytes from the body, so what lands on Kafka is exactly what the caller wrote.</summary>
    private static RequestRecord ToRecord(JsonElement request) =>
        new(request.GetProperty("id").GetString()!, JsonMarshal.GetRawUtf8Value(request).ToArray());
}
