using Xunit.Abstractions;

namespace Mlops.Stream.Host.Tests.Faults;

/// <summary>
/// Issue 14, scenarios 9 and 10, under the broker faults' steady Kafka and HTTP load: a served
/// version that throws for some inputs, and a served version ten times as costly for a while. The
/// delivery checker then finds no request lost and no prediction different from a direct ONNX
/// Runtime run of the version it names; every HTTP call is answered (served, or refused with a JSON
/// error code where the fault allows it). Each test owns its broker, topics and registry.
/// </summary>
public sealed class ModelFaultTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Poisoned_requests_are_dead_lettered_or_refused_and_everything_else_is_predicted()
    {
        var result = await RunAsync(ModelFaults.PoisonInputs);

        Assert.True(result.PoisonSent > 0);
        Assert.Equal(0, result.Report.Lost);
        Assert.Equal(0, result.Report.Wrong);
        // Exactly the poisoned records are dead letters: one more would be a good request refused, one
        // fewer a poisoned one predicted (which the checker's direct run would also count as wrong).
        Assert.Equal(result.PoisonSent, result.Report.DeadLettered);
        Assert.Equal(result.Report.Sent - result.PoisonSent, result.Report.Predicted);
        Assert.Equal(result.Report.Duplicated, result.DuplicatesOnMetrics);
        Assert.NotEmpty(result.HttpPoisonRefused);
        Assert.All(result.HttpPoisonRefused.Keys, answer => Assert.Equal("500 model_failed", answer));
        Assert.Empty(result.HttpFailures);
    }

    [Fact]
    public async Task A_model_ten_times_slower_for_a_while_keeps_every_request_and_answers_http_in_time_or_with_a_code()
    {
        var result = await RunAsync(ModelFaults.SlowModel);

        Assert.Equal(0, result.Report.Lost);
        Assert.Equal(0, result.Report.Wrong);
        Assert.Equal(0, result.Report.DeadLettered);
        Assert.Equal(result.Report.Duplicated, result.DuplicatesOnMetrics);
        // Served, or refused with 429/503/504 and a code; never another status, a bare error or no answer.
        Assert.Empty(result.HttpFailures);
        Assert.True(result.HttpAnswered > 0);
        // Once fast again, the node worked its backlog off.
        Assert.NotNull(result.Backpressure?.Recovery);
    }

    private Task<FaultRunResult> RunAsync(BrokerFault fault) => OneNodeFaultRun.RunAsync(fault, output);
}
