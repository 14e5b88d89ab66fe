using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Mlops.Stream.Inference.Caching;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http;

/// <summary><c>/api/v1/models</c>: every model with its versions and serving state, for operators and the CLI.</summary>
public static class ModelsApi
{
    public static IEndpointRouteBuilder MapModelsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/models").WithTags("Models");
        group.MapGet("", ListModelsAsync).WithSummary("Every model with its versions, aliases and serving state");
        group.MapGet("/{model}", GetModelAsync).WithSummary("One model with its versions, aliases and serving state");
        group.MapGet("/{model}/replicas", ListReplicasAsync).WithSummary("The model's replicas across the cluster: where each runs and what it serves");
        endpoints.MapGet("/api/v1/model-cache", GetModelCache).WithTags("Models")
            .WithSummary("This node's loaded models against its memory budget: count, bytes, pinned, loads and evictions");
        return endpoints;
    }

    private static async Task<Ok<IReadOnlyList<ModelSummary>>> ListModelsAsync(IInferenceGateway gateway, CancellationToken cancellationToken)
    {
        var models = await gateway.ListModelsAsync(cancellationToken);
        IReadOnlyList<ModelSummary> summaries = models
            .Select(ModelSummary.From)
            .OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(summaries);
    }

    private static async Task<Results<Ok<ModelSummary>, NotFound<ErrorResponse>>> GetModelAsync(
        string model, IInferenceGateway gateway, CancellationToken cancellationToken)
    {
        var status = await gateway.GetModelAsync(model, cancellationToken);
        return status is null
            ? TypedResults.NotFound(new ErrorResponse($"model '{model}' is not in the registry", HttpErrorCodes.ModelNotFound))
            : TypedResults.Ok(ModelSummary.From(status));
    }

    /// <summary><c>GET /api/v1/model-cache</c>: this node's model cache (see <see cref="ModelCache"/>); a node without one reports no budget and nothing loaded.</summary>
    private static Ok<ModelCacheResponse> GetModelCache(HttpContext http) =>
        TypedResults.Ok(ModelCacheResponse.From(http.RequestServices.GetService(typeof(ModelCache)) as ModelCache ?? new ModelCache()));

    /// <summary><c>GET /api/v1/models/{model}/replicas</c>: every replica of the model across the cluster, where it runs and how it serves.</summary>
    private static async Task<Results<Ok<IReadOnlyList<ReplicaSummary>>, NotFound<ErrorResponse>>> ListReplicasAsync(
        string model, IInferenceGateway gateway, CancellationToken cancellationToken)
    {
        var replicas = await gateway.ListReplicasAsync(model, cancellationToken);
        return replicas is null
            ? TypedResults.NotFound(new ErrorResponse($"model '{model}' is not in the registry", HttpErrorCodes.ModelNotFound))
            : TypedResults.Ok<IReadOnlyList<ReplicaSummary>>([.. replicas.Select(ReplicaSummary.From)]);
    }
}
