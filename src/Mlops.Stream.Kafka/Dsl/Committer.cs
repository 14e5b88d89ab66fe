using Akka;
using Akka.Streams.Dsl;
using Mlops.Stream.Kafka.Internal;
using Mlops.Stream.Kafka.Settings;

namespace Mlops.Stream.Kafka.Dsl;

/// <summary>Committing sinks (shaped like Akka.Streams.Kafka's <c>Committer</c>).</summary>
public static class Committer
{
    /// <summary>
    /// Marks every arriving offset as completed and commits, in batches of <c>MaxBatch</c> or every
    /// <c>MaxInterval</c>, each partition's offsets up to the first record that has not completed.
    /// The task completes after the final commit when the stream ends (see <see cref="DrainingControl{T}"/>).
    /// </summary>
    public static Sink<(TElement, CommittableOffset), Task<Done>> SinkWithOffsetContext<TElement>(CommitterSettings settings) =>
        Sink.FromGraph(new CommitterStage<TElement>(settings));
}
