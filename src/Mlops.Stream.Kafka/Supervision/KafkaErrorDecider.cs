using Confluent.Kafka;

namespace Mlops.Stream.Kafka.Supervision;

public enum KafkaErrorAction
{
    /// <summary>Log and carry on: librdkafka handles it.</summary>
    Continue,
    /// <summary>The broker cannot be reached: report an outage, keep the stream alive, it resumes by itself.</summary>
    ReportOutage,
    /// <summary>The client cannot go on (fatal error): fail the stream.</summary>
    Stop,
}

public enum CommitErrorAction
{
    /// <summary>Transient: keep the offsets and retry the commit later.</summary>
    Retry,
    /// <summary>The partitions moved (rebalance): drop these offsets; the records are redelivered to the new owner.</summary>
    Drop,
    /// <summary>Cannot recover: fail the stream.</summary>
    Stop,
}

/// <summary>
/// The one place that says which Kafka errors stop a stream, which are an outage to wait out,
/// and which are noise. Every stage in this library asks it.
/// </summary>
public static class KafkaErrorDecider
{
    public static KafkaErrorAction Decide(Error error)
    {
        if (error.IsFatal) return KafkaErrorAction.Stop;
        return error.Code switch
        {
            ErrorCode.Local_AllBrokersDown or ErrorCode.Local_Transport or ErrorCode.Local_Resolve
                or ErrorCode.BrokerNotAvailable or ErrorCode.NetworkException or ErrorCode.RequestTimedOut
                or ErrorCode.Local_TimedOut or ErrorCode.GroupCoordinatorNotAvailable or ErrorCode.NotCoordinatorForGroup
                or ErrorCode.LeaderNotAvailable or ErrorCode.Local_Authentication or ErrorCode.SaslAuthenticationFailed
                or ErrorCode.Local_Ssl
                => KafkaErrorAction.ReportOutage,
            _ => KafkaErrorAction.Continue,
        };
    }

    /// <summary>
    /// Whether a produce error refuses this one record for good (too large — librdkafka gives the same
    /// code when it refuses a record over <c>message.max.bytes</c> itself —, invalid), as opposed
    /// to the broker or the client being unable to go on. Such a record can be replaced (by a
    /// dead letter, say) and the stream continue; sending it again would fail again.
    /// </summary>
    public static bool IsRecordRefused(Error error) => !error.IsFatal && error.Code is
        ErrorCode.MsgSizeTooLarge or ErrorCode.InvalidMsg or ErrorCode.InvalidMsgSize
        or ErrorCode.RecordListTooLarge or ErrorCode.InvalidRecord or ErrorCode.Local_BadMsg or ErrorCode.InvalidTimestamp;

    public static CommitErrorAction DecideCommit(Error error)
    {
        if (error.IsFatal) return CommitErrorAction.Stop;
        return error.Code switch
        {
            ErrorCode.RebalanceInProgress or ErrorCode.IllegalGeneration or ErrorCode.UnknownMemberId
                or ErrorCode.Local_State or ErrorCode.Local_UnknownPartition or ErrorCode.NotLeaderForPartition
                => CommitErrorAction.Drop,
            ErrorCode.TopicAuthorizationFailed or ErrorCode.GroupAuthorizationFailed or ErrorCode.Local_Fatal
                => CommitErrorAction.Stop,
            _ => CommitErrorAction.Retry,
        };
    }

}
