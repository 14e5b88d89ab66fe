using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Mlops.Stream.Http.Internal;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Http;

/// <summary>
/// The two routes that write a JSON array of records to one of a model's topics, byte for byte as
/// sent, keyed by the record's <c>id</c> (also the <c>mlops-request-id</c> header), answering where
/// each landed (partition, offset, Kafka timestamp) in the order sent:
/// <list type="bullet">
/// <item><c>POST /api/v1/models/{model}/requests</c>: Open Inference Protocol v2 requests to the
/// request topic. Each needs a string <c>id</c>; everything else is the serving pipeline's to judge, so
/// a malformed request is written too and ends up in the model's dead-letter topic, exactly as from
/// any other producer.</item>
/// <item><c>POST /api/v1/models/{model}/feedback</c>: ground-truth labels <c>{"id", "label"}</c> to
/// the feedback topic, which the model's drift job joins to the served events. Each needs a string
/// <c>id</c> and a <c>label</c> of a label's JSON type; whether the label names a class of the
/// version that served the request is the drift job's to judge (it counts <c>bad_label</c>).</item>
/// </list>
/// </summary>
internal static class ProduceEndpoint
{
    private static readonly JsonDocumentOptions BodyOptions = new() { MaxDepth = 64 };

    public static Task<IResult> ProduceAsync(string model, HttpContext http, IModelRegistry registry, IRequestProducer producer) =>
        ProduceArrayAsync(model, http, registry, "v2 inference requests", "requests", RequestProblem, producer.ProduceAsync);

    public static Task<IResult> ProduceFeedbackAsync(string model, HttpContext http, IModelRegistry registry, IFeedbackProducer producer) =>
        ProduceArrayAsync(model, http, registry, "feedback labels {\"id\": ..., \"label\": ...}", "labels", LabelProblem, producer.ProduceFeedbackAsync);

    private static async Task<IResult> ProduceArrayAsync(
        string model,
        HttpContext http,
        IModelRegistry registry,
        string what,
        string items,
        Func<JsonElement, int, string?> itemProblem,
        Func<string, IReadOnlyList<RequestRecord>, CancellationToken, Task<ProduceOutcome>> produce)
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

        List<RequestRecord> records;
        try
        {
            using var document = JsonDocument.Parse(body, BodyOptions);
            if (Problem(document.RootElement, what, items, itemProblem) is { } problem) return problem;
            records = [.. document.RootElement.EnumerateArray().Select(ToRecord)];
        }
        catch (JsonException e)
        {
            return TopicsApi.Error(StatusCodes.Status400BadRequest, $"the body is not valid JSON: {e.Message}", HttpErrorCodes.BadRequest);
        }

        try
        {
            return await produce(model, records, cancellationToken) switch
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

    /// <summary>Why the body is not a batch of <paramref name="what"/>, or null when it is one.</summary>
    private static IResult? Problem(JsonElement root, string what, string items, Func<JsonElement, int, string?> itemProblem)
    {
        if (root.ValueKind != JsonValueKind.Array)
            return TopicsApi.Error(StatusCodes.Status400BadRequest, $"the body must be a JSON array of {what}", HttpErrorCodes.BadRequest);
        var count = root.GetArrayLength();
        if (count == 0)
            return TopicsApi.Error(StatusCodes.Status400BadRequest, $"the array holds no {items}", HttpErrorCodes.BadRequest);
        if (count > TopicsApi.MaxProduceBatch)
            return TopicsApi.Error(StatusCodes.Status413PayloadTooLarge,
                $"{count} {items} in one call; at most {TopicsApi.MaxProduceBatch} are accepted, send smaller batches", TopicsErrorCodes.BatchTooLarge);
        var index = 0;
        foreach (var item in root.EnumerateArray())
        {
            if (itemProblem(item, index) is { } problem)
                return TopicsApi.Error(StatusCodes.Status400BadRequest, problem, HttpErrorCodes.BadRequest);
            index++;
        }
        return null;
    }

    private static string? RequestProblem(JsonElement request, int index) =>
        HasId(request) ? null : $"request [{index}] has no string 'id'; it becomes the record key and the mlops-request-id header";

    private static string? LabelProblem(JsonElement label, int index)
    {
        if (!HasId(label)) return $"label [{index}] has no string 'id': the id of the served request it is the truth for";
        if (!label.TryGetProperty("label", out var value) || !IsLabel(value) &&
            !(value.ValueKind == JsonValueKind.Array && value.GetArrayLength() > 0 && value.EnumerateArray().All(IsLabel)))
            return $"label [{index}] ('{label.GetProperty("id").GetString()}') needs a 'label': a class index, a class name, true/false, or an array of them, one per row";
        return null;
    }

    private static bool HasId(JsonElement item) =>
        item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(id.GetString());

    private static bool IsLabel(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.TryGetInt32(out var index) && index >= 0,
        JsonValueKind.String => !string.IsNullOrEmpty(value.GetString()),
        JsonValueKind.True or JsonValueKind.False => true,
        _ => false,
    };

    /// <summary>The record's own bytes from the body, so what lands on Kafka is exactly what the caller wrote.</summary>
    private static RequestRecord ToRecord(JsonElement record) =>
        new(record.GetProperty("id").GetString()!, JsonMarshal.GetRawUtf8Value(record).ToArray());
}
