using Mlops.Stream.Actors.Drift;
using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Drift.Windows;
using static Mlops.Stream.Actors.Tests.Drift.DriftEvents;

namespace Mlops.Stream.Actors.Tests.Drift;

public sealed class DriftRecordsTests
{
    [Fact]
    public async Task A_window_record_is_keyed_and_headed_by_its_version_and_holds_the_window_as_json()
    {
        using var folder = new TempDirectory("drift-records-");
        var registry = await RegistryAsync(folder, "records");
        var reference = VersionReference.FromManifest(await registry.GetManifestAsync("records", 1));
        var windows = new DriftWindows("records", v => v == 1 ? reference : null, new WindowOptions { MaxEvents = 2 });
        windows.Add(Served("records", 0, T0), 4, 10);
        var report = Assert.Single(windows.Add(Served("records", 1, T0), 4, 11).Closed);

        var record = DriftRecords.Window("mlops.drift.records.v1", report);

        Assert.Equal("mlops.drift.records.v1", record.Topic);
        Assert.Equal("1"u8.ToArray(), record.Key);
        Assert.Equal("1", ServingHeaders.Read(record.Headers, ServingHeaders.ModelVersion));
        var back = DriftWindowJson.Deserialize(record.Value);
        Assert.Equal(("records", 1, 2), (back.Model, back.Version, back.Events));
        Assert.Equal([new PartitionOffsets(4, 10, 11)], back.Offsets.ToArray());
    }
}
