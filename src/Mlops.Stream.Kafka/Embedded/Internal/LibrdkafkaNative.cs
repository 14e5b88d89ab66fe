using System.Runtime.InteropServices;

namespace Mlops.Stream.Kafka.Embedded.Internal;

/// <summary>
/// P/Invoke declarations for the parts of librdkafka that Confluent.Kafka does not wrap: the
/// mock cluster and its fault injection, plus the minimum needed to own the <c>rd_kafka_t</c>
/// handle the mock cluster runs on. Library resolution is done by <see cref="LibrdkafkaResolver"/>,
/// which must be registered before the first call (see <see cref="LibrdkafkaResolver.EnsureRegistered"/>).
/// </summary>
internal static partial class LibrdkafkaNative
{
    /// <summary>The logical library name; <see cref="LibrdkafkaResolver"/> maps it to a real file.</summary>
    internal const string Library = "librdkafka";

    /// <summary><c>RD_KAFKA_PRODUCER</c>: a producer handle needs no group or subscription to idle.</summary>
    internal const int RdKafkaProducer = 0;

    /// <summary><c>RD_KAFKA_CONF_OK</c>.</summary>
    internal const int ConfOk = 0;

    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_new")]
    internal static partial IntPtr ConfNew();

    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_destroy")]
    internal static partial void ConfDestroy(IntPtr conf);

    [LibraryImport(Library, EntryPoint = "rd_kafka_conf_set", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int ConfSet(IntPtr conf, string name, string value, byte[] errstr, UIntPtr errstrSize);

    /// <summary>On success the handle owns <paramref name="conf"/>; on failure the caller still does.</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_new")]
    internal static partial IntPtr KafkaNew(int type, IntPtr conf, byte[] errstr, UIntPtr errstrSize);

    [LibraryImport(Library, EntryPoint = "rd_kafka_destroy")]
    internal static partial void KafkaDestroy(IntPtr rk);

    /// <summary>Returns a static string owned by librdkafka: never free it.</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_err2str")]
    internal static partial IntPtr ErrToString(int err);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_new")]
    internal static partial IntPtr MockClusterNew(IntPtr rk, int brokerCount);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_destroy")]
    internal static partial void MockClusterDestroy(IntPtr mockCluster);

    /// <summary>Returns a string owned by the mock cluster, valid until it is destroyed: copy it.</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_cluster_bootstraps")]
    internal static partial IntPtr MockClusterBootstraps(IntPtr mockCluster);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_topic_create", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MockTopicCreate(IntPtr mockCluster, string topic, int partitionCount, int replicationFactor);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_down")]
    internal static partial int MockBrokerSetDown(IntPtr mockCluster, int brokerId);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_up")]
    internal static partial int MockBrokerSetUp(IntPtr mockCluster, int brokerId);

    /// <summary>The next <paramref name="count"/> requests of <paramref name="apiKey"/> (any broker) fail with these errors, in order.</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_push_request_errors_array")]
    internal static partial void MockPushRequestErrorsArray(IntPtr mockCluster, short apiKey, nuint count, int[] errors);

    /// <summary>Forgets the errors still pushed for <paramref name="apiKey"/> on the cluster.</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_clear_request_errors")]
    internal static partial void MockClearRequestErrors(IntPtr mockCluster, short apiKey);

    /// <summary>Delays every response of a broker (-1: all brokers) by <paramref name="rttMs"/>.</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_broker_set_rtt")]
    internal static partial int MockBrokerSetRtt(IntPtr mockCluster, int brokerId, int rttMs);

    /// <summary>Makes a broker the partition's leader; clients learn it from their next metadata request.</summary>
    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_partition_set_leader", StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int MockPartitionSetLeader(IntPtr mockCluster, string topic, int partition, int brokerId);

    [LibraryImport(Library, EntryPoint = "rd_kafka_mock_group_initial_rebalance_delay_ms")]
    internal static partial void MockGroupInitialRebalanceDelayMs(IntPtr mockCluster, int delayMs);

    /// <summary>The text librdkafka gives for an <c>rd_kafka_resp_err_t</c> code.</summary>
    internal static string DescribeError(int err) =>
        Marshal.PtrToStringUTF8(ErrToString(err)) ?? $"librdkafka error {err}";

    /// <summary>Reads a NUL-terminated error buffer filled by librdkafka.</summary>
    internal static string ReadErrorBuffer(byte[] errstr)
    {
        var end = Array.IndexOf(errstr, (byte)0);
        return System.Text.Encoding.UTF8.GetString(errstr, 0, end < 0 ? errstr.Length : end);
    }
}
