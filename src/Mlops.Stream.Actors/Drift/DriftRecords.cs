using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Drift.Windows;
using Mlops.Stream.Kafka.Dsl;

namespace Mlops.Stream.Actors.Drift;

/// <summary>
/// The drift topic's record of one closed window: the <see cref="DriftWindowJson"/> payload, keyed
/// and headed by the model version so a reader can pick a version's windows without parsing them.
/// </summary>
public static class DriftRecords
{
    public static ProducerRecord<byte[]?, byte[]?> Window(string topic, DriftWindowReport report)
    {
        var version = Encoding.UTF8.GetBytes(report.Version.ToString(CultureInfo.InvariantCulture));
        return new ProducerRecord<byte[]?, byte[]?>(topic, version, DriftWindowJson.Serialize(report),
            new Headers { { ServingHeaders.ModelVersion, version } });
    }
}
