using Mlops.Stream.Http.Tests.Support;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http.Tests;

/// <summary>Infer calls honour the caller: a client that goes away cancels the gateway call.</summary>
public sealed class InferenceCancellationTests
{
    [Fact]
    public async Task A_client_that_disconnects_cancels_the_gateway_call()
    {
        // A long infer timeout, so only the client's disconnect can cancel the token.
        await using var app = await TestApp.StartAsync(o => o.InferTimeout = TimeSpan.FromMinutes(10));
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.Gateway.OnInfer = async call =>
        {
            using var registration = call.CancellationToken.Register(() => cancelled.TrySetResult());
            entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, call.CancellationToken);
            return new InferReply.Served([], 1);
        };

        using var client = new CancellationTokenSource();
        var pending = app.Http.PostAsync("/v2/models/fraud/infer", V2.Json(V2.Request), client.Token);
        await entered.Task;
        await client.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pending);
        // A guard against hanging the run if cancellation never arrives, not a timing assertion.
        await cancelled.Task.WaitAsync(TimeSpan.FromMinutes(1));
    }
}
