using Microsoft.AspNetCore.Builder;
using Mlops.Stream.Http.Security;

namespace Mlops.Stream.Http;

public static class MlopsApis
{
    /// <summary>
    /// Every endpoint a node serves, behind error bodies for routing's bare 404 and 405 and the
    /// security middleware (API keys, CORS, rate limits), which are put in front first so no route
    /// can be mapped without them, and their OpenAPI document and docs page (<see cref="ApiDocs"/>). Program.cs and the tests' node both compose the HTTP edge
    /// through this one call.
    /// </summary>
    public static WebApplication MapMlopsApis(this WebApplication app)
    {
        app.UseMlopsErrorBodies();
        app.UseRegistryUnavailableAnswer();
        app.UseMlopsSecurity();
        app.MapMlopsApiDocs();
        app.MapHealthApi();
        app.MapMetricsApi();
        app.MapSystemApi();
        app.MapInferenceApi();
        app.MapModelsApi();
        app.MapAdminApi();
        app.MapClusterApi();
        app.MapTopicsApi();
        app.MapDriftApi();
        return app;
    }
}
