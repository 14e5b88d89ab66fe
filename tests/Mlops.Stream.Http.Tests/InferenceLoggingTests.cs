using System.Net;
using Microsoft.Extensions.Logging;
using Mlops.Stream.Http.Tests.Support;

namespace Mlops.Stream.Http.Tests;

/// <summary>What the infer endpoint puts into the logs: the model, version and request id as scope values, never the body.</summary>
public sealed class InferenceLoggingTests
{
    [Fact]
    public async Task Logs_written_during_an_infer_call_carry_model_version_and_request_id_but_not_the_payload()
    {
        var logs = new CapturingLoggerProvider();
        await using var app = await TestApp.StartAsync(logs: logs);
        app.Gateway.OnInfer = _ => throw new InvalidOperationException("gateway bug");

        using var response = await app.Http.PostAsync("/v2/models/fraud/versions/2/infer", V2.Json(V2.Request));

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        var entry = Assert.Single(logs.Entries, e => e.Category == "Mlops.Stream.Http.InferenceApi");
        Assert.Equal(LogLevel.Error, entry.Level);
        Assert.Equal("fraud", entry.ScopeValues["Model"]);
        Assert.Equal("2", entry.ScopeValues["Version"]);
        // ASP.NET Core's hosting scope supplies the request id.
        Assert.False(string.IsNullOrEmpty(entry.ScopeValues["RequestId"]?.ToString()));
        Assert.All(logs.Entries, e => Assert.DoesNotContain("features", e.Message));
    }
}
