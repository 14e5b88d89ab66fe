using System.Net;
using System.Text;
using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Gateway;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Http.Tests;

/// <summary>Every HTTP infer call is counted once in mlops_requests_total, under the outcome its status says.</summary>
public sealed class InferenceMetricsTests : IAsyncLifetime
{
    private TestApp _app = null!;

    public async Task InitializeAsync() => _app = await TestApp.StartAsync(o => o.InferTimeout = TimeSpan.FromMilliseconds(300));

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Each_reply_is_counted_under_its_outcome_with_the_serving_version_and_unknown_names_are_not_labels()
    {
        await Infer("/v2/models/fraud/infer", new InferReply.Served(Encoding.UTF8.GetBytes("{}"), 3), HttpStatusCode.OK);
        await Infer("/v2/models/fraud/infer", new InferReply.Served(Encoding.UTF8.GetBytes("{}"), 3), HttpStatusCode.OK);
        await Infer("/v2/models/fraud/infer", new InferReply.Invalid(new InferenceError(InferenceErrorCode.ShapeMismatch, "bad shape")), HttpStatusCode.BadRequest);
        await Infer("/v2/models/fraud/infer", new InferReply.Rejected(new BatchRejection(BatchRejectionReason.QueueFull, "full")), HttpStatusCode.TooManyRequests);
        await Infer("/v2/models/fraud/infer", new InferReply.NotReady("loading"), HttpStatusCode.ServiceUnavailable);
        await Infer("/v2/models/fraud/versions/2/infer", new InferReply.Rejected(new BatchRejection(BatchRejectionReason.ModelFailed, "boom")), HttpStatusCode.InternalServerError);
        await Infer("/v2/models/fraud/infer", new InferReply.TimedOut("slow"), HttpStatusCode.GatewayTimeout);
        await Infer("/v2/models/made-up-name/infer", new InferReply.NotFound("no such model"), HttpStatusCode.NotFound);
        await Infer("/v2/models/another-made-up-name/versions/x/infer", new InferReply.NotFound("unused"), HttpStatusCode.BadRequest);

        var text = await _app.Http.GetStringAsync("/metrics");

        Assert.Contains(Series("fraud", "3", "success", 2), text);
        Assert.Contains(Series("fraud", "", "invalid", 1), text);
        Assert.Contains(Series("fraud", "", "rejected", 2), text);
        Assert.Contains(Series("fraud", "2", "failed", 1), text);
        Assert.Contains(Series("fraud", "", "timed_out", 1), text);
        Assert.Contains(Series("", "", "invalid", 2), text);
        Assert.DoesNotContain("made-up-name", text);
    }

    private static string Series(string model, string version, string outcome, int count) =>
        $"mlops_requests_total{{model=\"{model}\",version=\"{version}\",source=\"http\",outcome=\"{outcome}\"}} {count}\n";

    private async Task Infer(string path, InferReply reply, HttpStatusCode expected)
    {
        _app.Gateway.Reply(reply);
        using var response = await _app.Http.PostAsync(path, V2.Json(V2.Request));
        Assert.Equal(expected, response.StatusCode);
    }
}
