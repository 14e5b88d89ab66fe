using Mlops.Stream.Actors.Tests.Support;
using Mlops.Stream.Inference.Batching;
using Mlops.Stream.Inference.Registry;

namespace Mlops.Stream.Actors.Tests.Batching;

public sealed class BatchingSettingsTests
{
    [Fact]
    public void Settings_start_from_the_manifests_batching_hints()
    {
        var settings = BatchingSettings.FromHints(DemoFixture.Model.Registration.Batching);

        Assert.Equal((64, TimeSpan.FromMilliseconds(5), 64 * BatchingSettings.DefaultQueueBatches), (settings.MaxBatchSize, settings.MaxQueueDelay, settings.MaxQueueSize));
        settings.Validate();
    }

    [Fact]
    public void Without_hints_the_registry_defaults_apply_and_overrides_are_copies()
    {
        var defaults = BatchingSettings.FromHints(null);
        var overridden = defaults with { MaxQueueSize = 100 };

        Assert.Same(BatchingSettings.Default, defaults);
        Assert.Equal((32, TimeSpan.FromMilliseconds(5), 512), (defaults.MaxBatchSize, defaults.MaxQueueDelay, defaults.MaxQueueSize));
        Assert.Equal(BatchingSettings.FromHints(BatchingHints.Default), defaults);
        Assert.Equal((32, 100), (overridden.MaxBatchSize, overridden.MaxQueueSize));
    }

    [Theory]
    [InlineData(0, 5, 10, "Mlops:Batching:MaxBatchSize must be at least 1, was 0")]
    [InlineData(4, -1, 10, "Mlops:Batching:MaxQueueDelay must be between 0 and 60 s, was -1 ms")]
    [InlineData(4, 120_000, 10, "Mlops:Batching:MaxQueueDelay must be between 0 and 60 s, was 120000 ms")]
    [InlineData(8, 5, 4, "Mlops:Batching:MaxQueueSize must be at least MaxBatchSize (8) so a full batch can form, was 4")]
    public void Invalid_settings_are_refused_with_a_message_naming_the_key(int maxBatch, int delayMs, int maxQueue, string message)
    {
        var settings = new BatchingSettings { MaxBatchSize = maxBatch, MaxQueueDelay = TimeSpan.FromMilliseconds(delayMs), MaxQueueSize = maxQueue };

        var error = Assert.Throws<ArgumentException>(() => settings.Validate("Mlops:Batching"));

        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void A_batcher_refuses_invalid_settings_at_construction()
    {
        using var model = new FakeModel();

        var error = Assert.Throws<ArgumentException>(() => new DynamicBatcher(model, new BatchingSettings { MaxBatchSize = 0 }));

        Assert.StartsWith("MaxBatchSize must be at least 1", error.Message);
    }

    [Theory]
    [InlineData(BatchRejectionReason.QueueFull, "queue_full")]
    [InlineData(BatchRejectionReason.ShuttingDown, "shutting_down")]
    [InlineData(BatchRejectionReason.ModelFailed, "model_failed")]
    public void Rejection_reasons_have_stable_wire_codes(BatchRejectionReason reason, string wireCode)
    {
        Assert.Equal(wireCode, reason.ToWireCode());
        Assert.True(BatchRejectionReasons.TryParse(wireCode, out var parsed));
        Assert.Equal(reason, parsed);
    }

    [Fact]
    public void A_model_dispatches_when_idle_unless_its_manifest_asks_to_wait_for_batch_mates()
    {
        Assert.True(BatchingSettings.FromHints(new BatchingHints(16, 5)).DispatchWhenIdle);
        Assert.True(BatchingSettings.FromHints(null).DispatchWhenIdle);
        var waiting = BatchingSettings.FromHints(new BatchingHints(16, 5, DispatchWhenIdle: false));
        Assert.False(waiting.DispatchWhenIdle);
        Assert.Equal(TimeSpan.FromMilliseconds(5), waiting.MaxQueueDelay);
        Assert.Contains("max queue delay 5 ms", waiting.ToString());
        Assert.Contains("dispatch when idle", BatchingSettings.Default.ToString());
    }

    [Fact]
    public void Instances_come_from_the_manifest_and_must_be_from_1_to_64()
    {
        Assert.Equal(1, BatchingSettings.FromHints(new BatchingHints(16, 5)).Instances);
        Assert.Equal(3, BatchingSettings.FromHints(new BatchingHints(16, 5, Instances: 3)).Instances);
        Assert.Contains("3 instances", BatchingSettings.FromHints(new BatchingHints(16, 5, Instances: 3)).ToString());
        var zero = Assert.Throws<ArgumentException>(() => (BatchingSettings.Default with { Instances = 0 }).Validate("Batching"));
        Assert.Equal("Batching:Instances must be from 1 to 64, was 0", zero.Message);
        Assert.Throws<ArgumentException>(() => (BatchingSettings.Default with { Instances = 65 }).Validate());
    }

    [Fact]
    public void A_latency_objective_comes_from_the_manifest_and_must_be_positive()
    {
        Assert.Null(BatchingSettings.Default.LatencyObjective);
        var tuned = BatchingSettings.FromHints(new BatchingHints(16, 5, LatencyObjectiveMs: 2.5));
        Assert.Equal(TimeSpan.FromMilliseconds(2.5), tuned.LatencyObjective);
        Assert.Contains("batch size tuned to 2.5 ms", tuned.ToString());
        var zero = Assert.Throws<ArgumentException>(() => (BatchingSettings.Default with { LatencyObjective = TimeSpan.Zero }).Validate());
        Assert.StartsWith("LatencyObjective must be above 0", zero.Message);
    }

    [Fact]
    public void A_manifest_may_set_the_queue_size_instead_of_16_batches_worth()
    {
        Assert.Equal(16, BatchingSettings.FromHints(new BatchingHints(1, 5)).MaxQueueSize);
        Assert.Equal(512, BatchingSettings.FromHints(new BatchingHints(1, 5, MaxQueueSize: 512)).MaxQueueSize);
        Assert.Throws<ArgumentException>(() => BatchingSettings.FromHints(new BatchingHints(8, 5, MaxQueueSize: 4)).Validate());
    }
}
