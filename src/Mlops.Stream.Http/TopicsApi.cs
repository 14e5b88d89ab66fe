using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Http;

/// <summary>
/// The admin routes behind the CLI's Kafka commands (<c>mlops topics</c>, <c>tail</c>, <c>load</c>):
/// <list type="bullet">
/// <item><c>GET /api/v1/topics</c>, <c>GET /api/v1/topics/{name}</c>: topics, watermarks, consumer lag (<see cref="ITopicInspector"/>).</item>
/// <item><c>GET /api/v1/models/{model}/tail/{predictions|served|dlq}?from=end|beginning&amp;limit=N</c>:
/// follows a model's output topic as NDJSON (<see cref="TailEndpoint"/>).</item>
/// <item><c>POST /api/v1/models/{model}/requests</c>: writes a JSON array of v2 requests to the
/// model's request topic (<see cref="ProduceEndpoint"/>), for load generators.</item>
/// <item><c>GET /api/v1/models/{model}/reference</c>: the inputs and reference feature profile a
/// load generator builds realistic requests from (<see cref="ModelReferenceEndpoint"/>).</item>
/// </list>
/// Errors are <see cref="ErrorResponse"/> bodies; Kafka not answering is 503 <c>kafka_unavailable</c>.
/// </summary>
public static class TopicsApi
{
    /// <summary>Tails open at once on one node; each holds a Kafka consumer and a request.</summary>
    public const int MaxConcurrentTails = 8;

    /// <summary>Requests in one produce call; a load generator sends many small batches instead.</summary>
    public const int MaxProduceBatch = 1000;

    /// <summary>Largest produce body: the batch limit times a generous request size.</summary>
    public const long MaxProduceBodyBytes = 16L * 1024 * 1024;

    /// <summary>The tail slots the routes share; the host's Kafka implementations are registered separately.</summary>
    public static IServiceCollection AddTopicsApi(this IServiceCollection services)
    {
        services.TryAddSingleton(_ => new TailSlots(MaxConcurrentTails));
        return services;
    }

    public static IEndpointRouteBuilder MapTopicsApi(this IEndpointRouteBuilder endpoints)
    {
        var topics = endpoints.MapGroup("/api/v1/topics").WithTags("Topics");
        topics.MapGet("", ListAsync).WithSummary("The broker's topics with their partitions and message counts")
            .Produces<IReadOnlyList<TopicSummary>>().Errors(StatusCodes.Status503ServiceUnavailable);
        topics.MapGet("/{name}", DescribeAsync).WithSummary("One topic: partitions, watermarks, consumer groups and their lag")
            .Produces<TopicDetail>().Errors(StatusCodes.Status404NotFound, StatusCodes.Status503ServiceUnavailable);

        var model = endpoints.MapGroup("/api/v1/models/{model}").WithTags("Topics");
        model.MapGet("/tail/{stream}", TailEndpoint.OpenAsync)
            .WithSummary("Follow the model's predictions, served events or dead letters as NDJSON, one record per line")
            .Produces<string>(StatusCodes.Status200OK, TailEndpoint.ContentType)
            .Errors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status429TooManyRequests, StatusCodes.Status503ServiceUnavailable);
        model.MapPost("/requests", ProduceEndpoint.ProduceAsync)
            .WithSummary($"Write a JSON array of v2 infer requests (each with an id; at most {MaxProduceBatch}) to the model's request topic")
            .DocumentsBody<IReadOnlyList<InferRequestBody>>("application/json")
            .Produces<ProducedRequestsResponse>()
            .Errors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status503ServiceUnavailable);
        model.MapGet("/reference", ModelReferenceEndpoint.GetAsync)
            .WithSummary("A version's inputs, feature names, reference profile and sample request (default: production)")
            .Produces<ModelReferenceResponse>().Errors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound);
        return endpoints;
    }

    private static async Task<IResult> ListAsync(ITopicInspector inspector, CancellationToken cancellationToken)
    {
        try
        {
            return TypedResults.Ok(await inspector.ListAsync(cancellationToken));
        }
        catch (BrokerUnavailableException e)
        {
            return KafkaUnavailable(e);
        }
    }

    private static async Task<IResult> DescribeAsync(string name, ITopicInspector inspector, CancellationToken cancellationToken)
    {
        try
        {
            return await inspector.DescribeAsync(name, cancellationToken) is { } detail
                ? TypedResults.Ok(detail)
                : Error(StatusCodes.Status404NotFound, $"topic '{name}' does not exist on the broker", TopicsErrorCodes.TopicNotFound);
        }
        catch (BrokerUnavailableException e)
        {
            return KafkaUnavailable(e);
        }
    }

    /// <summary>True when the registry knows <paramref name="model"/>; a name the registry cannot hold is simply unknown.</summary>
    internal static async Task<bool> IsRegisteredAsync(IModelRegistry registry, string model, CancellationToken cancellationToken)
    {
        try
        {
            return (await registry.ListVersionsAsync(model, cancellationToken)).Count > 0;
        }
        catch (ModelRegistryException e) when (e.Error == ModelRegistryError.Invalid)
        {
            return false;
        }
    }

    internal static IResult ModelNotFound(string model) =>
        Error(StatusCodes.Status404NotFound, $"model '{model}' is not in the registry", HttpErrorCodes.ModelNotFound);

    internal static IResult KafkaUnavailable(BrokerUnavailableException e) =>
        Error(StatusCodes.Status503ServiceUnavailable, e.Message, TopicsErrorCodes.KafkaUnavailable);

    internal static IResult Error(int status, string message, string code) =>
        TypedResults.Json(new ErrorResponse(message, code), statusCode: status);
}

/// <summary>
/// Counts open tails so a node never holds more than its limit of tail consumers. Thread-safe; a
/// slot is returned when its lease is disposed.
/// </summary>
public sealed class TailSlots(int capacity)
{
    private readonly SemaphoreSlim _free = new(capacity, capacity);

    public int Capacity { get; } = capacity;

    /// <summary>A lease on one slot, or null when all are taken (never waits).</summary>
    public IDisposable? TryTake() => _free.Wait(0) ? new Lease(_free) : null;

    private sealed class Lease(SemaphoreSlim free) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) free.Release();
        }
    }
}
