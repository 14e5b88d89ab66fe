using System.Text;
using System.Text.Json;
using Mlops.Stream.Drift.Windows;
using static Mlops.Stream.Drift.Tests.Windows.ServedEvents;

namespace Mlops.Stream.Drift.Tests.Windows;

/// <summary>The drift-topic payload: snake_case names and enum values, NaN as "NaN", and a lossless round trip.</summary>
public sealed class DriftWindowJsonTests
{
    [Fact]
    public void A_closed_window_is_written_in_snake_case_and_reads_back_the_same()
    {
        var windows = new DriftWindows(Model, Versions, new WindowOptions { MaxEvents = 3 });
        windows.Add(Event([50, double.NaN], T0), 1, 10);
        windows.Add(Event([51, double.NaN], T0.AddSeconds(1)), 1, 11);
        var report = Assert.Single(windows.Add(Event([49, double.NaN], T0.AddSeconds(2)), 1, 12).Closed);

        var json = DriftWindowJson.Serialize(report);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;

        Assert.Equal(
            ["model", "version", "start", "end", "closed_by", "events", "rows", "offsets", "dataset", "features", "performance", "prediction_drift"],
            root.EnumerateObject().Select(p => p.Name));
        Assert.Equal(("fraud-demo", 1, "count"), (root.GetProperty("model").GetString(), root.GetProperty("version").GetInt32(), root.GetProperty("closed_by").GetString()));
        Assert.Equal("2025-03-01T12:00:02+00:00", root.GetProperty("end").GetString());
        Assert.Equal("""[{"partition":1,"first":10,"last":12}]""", root.GetProperty("offsets").GetRawText());

        var hour = root.GetProperty("features")[1];
        Assert.Equal(
            ("hour", "population_stability_index", "profile", "NaN", "not_evaluated", 1.0),
            (hour.GetProperty("feature").GetString(), hour.GetProperty("method").GetString(), hour.GetProperty("reference").GetString(),
             hour.GetProperty("score").GetString(), hour.GetProperty("verdict").GetString(), hour.GetProperty("quality").GetProperty("non_finite_share").GetDouble()));
        Assert.Equal(JsonValueKind.Null, hour.GetProperty("p_value").ValueKind);
        Assert.Contains("current_counts", hour.EnumerateObject().Select(p => p.Name));
        Assert.All(hour.GetProperty("current_counts").EnumerateArray(), c => Assert.Equal(0, c.GetInt64()));
        var amountCounts = root.GetProperty("features")[0].GetProperty("current_counts");
        Assert.Equal(report.Features[0].CurrentCounts.Counts.Length, amountCounts.GetArrayLength());
        Assert.Equal(3, amountCounts.EnumerateArray().Sum(c => c.GetInt64()));
        Assert.Equal("drifted_share", root.GetProperty("dataset").EnumerateObject().ElementAt(3).Name);

        var back = DriftWindowJson.Deserialize(json);
        Assert.Equal((report.Model, report.Version, report.Start, report.End, report.ClosedBy), (back.Model, back.Version, back.Start, back.End, back.ClosedBy));
        Assert.Equal(report.Offsets.ToArray(), back.Offsets.ToArray());
        Assert.Equal(report.Features.ToArray(), back.Features.ToArray());
        Assert.Equal(report.Dataset, back.Dataset);
        Assert.Equal(Encoding.UTF8.GetString(json), Encoding.UTF8.GetString(DriftWindowJson.Serialize(back)));
    }

    [Fact]
    public void An_enum_written_as_a_number_is_refused()
    {
        var windows = new DriftWindows(Model, Versions, new WindowOptions { MaxEvents = 1 });
        var report = Assert.Single(windows.Add(Event([50, 12], T0), 0, 0).Closed);
        var json = Encoding.UTF8.GetString(DriftWindowJson.Serialize(report)).Replace("\"closed_by\":\"count\"", "\"closed_by\":0");

        Assert.Throws<JsonException>(() => DriftWindowJson.Deserialize(Encoding.UTF8.GetBytes(json)));
    }
}
