using Confluent.Kafka;

namespace Mlops.Stream.Kafka.Internal;

/// <summary>
/// Consumer lag per assigned partition (end offset − committed offset), measured here because
/// not every broker answers DescribeConsumerGroups (the embedded one does not). The end offset
/// is librdkafka's cached high watermark, fresh with every fetch; a paused partition is not
/// fetched, so its watermarks are asked of the broker (briefly, and not while it is unreachable).
/// The committed offset is this consumer's own last commit; before its first commit, the first
/// offset it consumed (all after it is uncommitted); before any record, the group's committed
/// offset as the broker had it at assignment, else the low watermark (where a new group starts).
/// Runs on the poll thread, which owns the consumer.
/// </summary>
internal sealed class LagMeter<TKey, TValue>
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan BrokerQueryTimeout = TimeSpan.FromMilliseconds(500);
    private readonly Dictionary<TopicPartition, long> _groupCommitted = new();
    private DateTime _lastRefresh = DateTime.MinValue;

    /// <summary>
    /// Whether a measurement is due (every 2 s); asked on every poll, so it is all the poll loop
    /// pays between measurements.
    /// </summary>
    public bool Due()
    {
        if (DateTime.UtcNow - _lastRefresh < RefreshInterval) return false;
        _lastRefresh = DateTime.UtcNow;
        return true;
    }

    /// <returns>The lag per partition.</returns>
    public IReadOnlyDictionary<TopicPartition, long> Measure(IConsumer<TKey, TValue> consumer, IEnumerable<TopicPartition> assigned, bool paused,
        bool reachable, IReadOnlyDictionary<TopicPartition, long> baselines)
    {
        var askBroker = paused && reachable;
        var lag = new Dictionary<TopicPartition, long>();
        foreach (var tp in assigned)
        {
            var watermarks = consumer.GetWatermarkOffsets(tp);
            if (askBroker || (watermarks.Low.Value < 0 && reachable))
            {
                try
                {
                    watermarks = consumer.QueryWatermarkOffsets(tp, BrokerQueryTimeout);
                }
                catch (KafkaException)
                {
                    askBroker = reachable = false;   // one slow answer is enough: keep cached values this round
                }
            }
            var from = baselines.TryGetValue(tp, out var offset) ? offset : GroupStart(consumer, tp, watermarks.Low.Value, reachable);
            if (watermarks.High.Value >= 0 && from >= 0) lag[tp] = Math.Max(0, watermarks.High.Value - from);
        }
        return lag;
    }

    /// <summary>A partition was (re)assigned: its group offset is asked again.</summary>
    public void Forget(TopicPartition tp) => _groupCommitted.Remove(tp);

    /// <summary>The group's committed offset of a partition this consumer has not consumed from yet, asked once per assignment.</summary>
    private long GroupStart(IConsumer<TKey, TValue> consumer, TopicPartition tp, long low, bool reachable)
    {
        if (!_groupCommitted.TryGetValue(tp, out var committed))
        {
            if (!reachable) return -1;
            try
            {
                committed = consumer.Committed([tp], BrokerQueryTimeout)[0].Offset.Value;
                _groupCommitted[tp] = committed;
            }
            catch (KafkaException)
            {
                return -1;
            }
        }
        return committed >= 0 ? committed : low;
    }
}
