using System.Diagnostics;
using Confluent.Kafka;
using Mlops.Stream.Inference.Wire;

namespace Mlops.Stream.Bench.Scenarios.Pipeline;

/// <summary>
/// The per-message loop a user writes without batching: consume one request, decode it, run the
/// model on its one row, write its prediction and served event and wait until both are
/// acknowledged, commit that record synchronously, and only then take the next. Its producer does
/// not linger (librdkafka's default 5 ms linger would add 5 ms to every request of a loop that waits
/// for each acknowledgement), so this is the fastest a loop of that shape goes. Timed from the first
/// record to the last commit, for <c>seconds</c> or the whole backlog, whichever ends first.
/// </summary>
public static class NaiveLoop
{
    public static (double RequestsPerSecond, int Requests) Run(string bootstrap, RequestBacklog backlog, RawModel model, NodeAnswers answers,
        string predictionsTopic, string servedTopic, TimeSpan duration)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = bootstrap, GroupId = $"bench-naive-{backlog.Run}", EnableAutoCommit = false, FetchWaitMaxMs = 5,
        }).Build();
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig
        {
            BootstrapServers = bootstrap, Acks = Acks.All, LingerMs = 0,
        }).Build();
        consumer.Assign(backlog.Starts);

        Stopwatch? stopwatch = null;
        var done = 0;
        while (done < backlog.Requests && (stopwatch is null || stopwatch.Elapsed < duration))
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { } record) continue;
            stopwatch ??= Stopwatch.StartNew();
            var request = InferenceCodec.DecodeRequest(record.Message.Value);
            var started = Stopwatch.GetTimestamp();
            var (probabilities, labels) = model.Run(request.Inputs[0].Span<float>().ToArray(), 1);
            var (prediction, served, headers) = answers.For(request, probabilities, labels, record, Stopwatch.GetElapsedTime(started));
            var predictionAck = producer.ProduceAsync(predictionsTopic, new Message<string, byte[]> { Key = record.Message.Key, Value = prediction, Headers = headers });
            var servedAck = producer.ProduceAsync(servedTopic, new Message<string, byte[]> { Key = record.Message.Key, Value = served, Headers = headers });
            Task.WaitAll(predictionAck, servedAck);
            consumer.Commit(record);
            done++;
        }
        var seconds = stopwatch!.Elapsed.TotalSeconds;
        consumer.Close();
        return (done / seconds, done);
    }
}
