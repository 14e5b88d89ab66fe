using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Mlops.Stream.Http;

/// <summary><c>/api/v1/system</c>: facts about this node (version, Kafka, cluster) for operators and the CLI.</summary>
public static class SystemApi
{
    public static IEndpointRouteBuilder MapSystemApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/system").WithTags("System");
        group.MapGet("", GetSystemInfo).WithSummary("This node: version, runtime, Kafka, cluster membership");
        return endpoints;
    }

    private static Ok<SystemInfo> GetSystemInfo(ISystemInfoSource source) => TypedResults.Ok(source.Current());
}
