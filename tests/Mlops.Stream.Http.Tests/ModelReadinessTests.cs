using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Http.Tests;

/// <summary>The one readiness rule for models, as /healthz/ready and /v2/health/ready apply it.</summary>
public sealed class ModelReadinessTests
{
    private static ModelStatus Serving(string name, KafkaStreamStatus? stream = null) =>
        new(name, [1], 1, 1, ReplicaState.Ready, null, null) { KafkaStream = stream };

    [Fact]
    public void A_serving_model_whose_kafka_stream_fails_again_and_again_is_not_ready_and_the_record_is_named()
    {
        var failing = new KafkaStreamStatus(false, 3, 2, "Delivery failed (while answering request record mlops.requests.m.v1 [3] @ 17)", DateTimeOffset.UtcNow);
        var unready = ModelReadiness.Unready([Serving("m", failing), Serving("ok")]);
        var entry = Assert.Single(unready);
        Assert.StartsWith("m (kafka stream failing, 2 times in a row: ", entry);
        Assert.Contains("mlops.requests.m.v1 [3] @ 17", entry);
    }

    [Fact]
    public void One_failure_a_running_stream_or_a_node_without_kafka_leaves_the_model_ready()
    {
        var once = new KafkaStreamStatus(false, 1, 1, "a passing failure", DateTimeOffset.UtcNow);
        var recovered = new KafkaStreamStatus(true, 5, 0, "long ago", DateTimeOffset.UtcNow.AddHours(-1));
        Assert.Empty(ModelReadiness.Unready([Serving("a", once), Serving("b", recovered), Serving("c")]));
    }
}
