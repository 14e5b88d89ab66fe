using System.Text;
using Mlops.Stream.Drift.Windows;
using static Mlops.Stream.Drift.Tests.Windows.ServedEvents;

namespace Mlops.Stream.Drift.Tests.Windows;

/// <summary>
/// The served-event reader is a forward-only pass, not a document: these pin the edges where
/// that could differ (field order, unknown and repeated fields, number forms, truncation).
/// </summary>
public sealed class ServedEventReaderEdgeTests
{
    private const string Served = "\"served_timestamp\":\"2025-03-01T12:00:00Z\"";

    [Fact]
    public void Fields_are_read_in_any_order()
    {
        var body = $$"""
            {"inputs":[{"data":[1,2],"shape":[1,2],"datatype":"FP64","name":"features"}],
             "outputs":[{"shape":[1],"data":[0.5],"name":"p","datatype":"FP32"}],
             {{Served}},"version":"3","model":"fraud-demo","id":"r-1"}
            """;

        var served = Read(body);

        Assert.Equal(("r-1", "fraud-demo", 3, T0), (served.Id, served.Model, served.Version, served.ServedAt));
        Assert.Equal([1.0, 2.0], served.Inputs[0].Values);
        Assert.Equal([1L, 2L], served.Inputs[0].Shape.ToArray());
        Assert.Equal(("p", 0.5), (served.Outputs[0].Name, served.Outputs[0].Values[0]));
    }

    [Fact]
    public void Unknown_fields_of_any_shape_are_skipped()
    {
        var body = $$"""
            {"id":"r","extra":{"nested":[[1,{"inputs":"not these"}],null]},"model":"fraud-demo","version":1,{{Served}},
             "inputs":[{"name":"features","unit":{"a":[1,2]},"datatype":"FP32","shape":[2],"tags":["x",["y"]],"data":[1,2]}],
             "trailer":[true,false,null,1e3]}
            """;

        var served = Read(body);

        Assert.Equal([1.0, 2.0], served.Inputs[0].Values);
    }

    [Fact]
    public void A_repeated_field_takes_its_last_value()
    {
        var body = $$"""
            {"id":"first","id":"last","model":"fraud-demo","version":"1","version":"2",{{Served}},
             "inputs":[{"name":"f","datatype":"BYTES","shape":[1],"data":[1],"datatype":"FP64"}],
             "inputs":[{"name":"g","datatype":"FP64","shape":[1],"data":[7]}]}
            """;

        var served = Read(body);

        Assert.Equal(("last", 2, "g", 7.0), (served.Id, served.Version, served.Inputs[0].Name, served.Inputs[0].Values[0]));
    }

    [Fact]
    public void A_datatype_repeated_after_the_data_decides_how_the_data_is_read()
    {
        // The data is parsed as met (as FP32); the later FP64 must make it be read again.
        var body = $$"""{"id":"r","model":"fraud-demo","version":"1",{{Served}},"inputs":[{"name":"f","datatype":"FP32","shape":[1],"data":[0.1],"datatype":"FP64"}]}""";

        Assert.Equal(0.1, Read(body).Inputs[0].Values[0]);
    }

    [Fact]
    public void A_repeated_data_takes_its_last_value_whether_or_not_it_was_parsed_as_met()
    {
        var parsedBoth = Tensor("FP64", "[1]", "[1],\"data\":[2]");
        var lastNotAnArray = Tensor("FP64", "[1]", "[1],\"data\":\"none\"");

        Assert.Equal(2.0, Read(parsedBoth).Inputs[0].Values[0]);
        Assert.Equal(ServedEventFailureReason.Unreadable, Fail(lastNotAnArray).Reason);
    }

    [Fact]
    public void A_bad_value_in_data_met_before_its_datatype_is_quoted()
    {
        var body = $$"""{"id":"r","model":"fraud-demo","version":"1",{{Served}},"inputs":[{"data":[1,"x"],"name":"f","shape":[2],"datatype":"FP64"}]}""";

        var failure = Fail(body);

        Assert.Equal(ServedEventFailureReason.Unreadable, failure.Reason);
        Assert.Equal("tensor 'f': value \"x\" is not a FP64", failure.Detail);
    }

    [Theory]
    [InlineData("1.5e2", 150.0)]
    [InlineData("-2E-1", -0.2)]
    [InlineData("1E+3", 1000.0)]
    [InlineData("-0", 0.0)]
    public void Numbers_in_any_json_form_are_read(string literal, double expected)
    {
        var served = Read(Single("FP64", literal));

        Assert.Equal(expected, served.Inputs[0].Values[0]);
    }

    [Fact]
    public void A_number_beyond_double_range_reads_as_a_json_document_reads_it()
    {
        // The reader this one replaced took what JsonElement.TryGetDouble gives; keep that.
        var byDocument = System.Text.Json.JsonDocument.Parse("1e400").RootElement.TryGetDouble(out var expected);

        var read = ServedEventReader.TryRead(Encoding.UTF8.GetBytes(Single("FP64", "1e400")), 0, 0, out var served, out _);

        Assert.Equal(byDocument, read);
        Assert.Equal(expected, served?.Inputs[0].Values[0] ?? expected);
    }

    [Theory]
    [InlineData("FP64", "\"NaN\"", double.NaN)]
    [InlineData("FP32", "\"Infinity\"", double.PositiveInfinity)]
    [InlineData("FP64", "\"-Infinity\"", double.NegativeInfinity)]
    [InlineData("FP64", "\"\\u004eaN\"", double.NaN)]
    [InlineData("BOOL", "true", 1.0)]
    public void Non_finite_literals_and_booleans_are_read(string datatype, string literal, double expected)
    {
        var served = Read(Single(datatype, literal));

        Assert.Equal(expected, served.Inputs[0].Values[0]);
    }

    [Theory]
    [InlineData("FP64", "\"nan\"")]
    [InlineData("INT64", "\"NaN\"")]
    [InlineData("BOOL", "1")]
    [InlineData("FP64", "null")]
    [InlineData("FP64", "[1]")]
    [InlineData("FP64", "{\"v\":1}")]
    public void A_value_that_is_not_of_the_datatype_is_unreadable_and_quoted(string datatype, string literal)
    {
        var failure = Fail(Single(datatype, literal));

        Assert.Equal(ServedEventFailureReason.Unreadable, failure.Reason);
        Assert.Contains($"value {literal} is not", failure.Detail);
    }

    [Theory]
    [InlineData("[2]", "[[1,2]]", "holds 2 values, data has 1")] // a nested array is one element
    [InlineData("[1000000000,1000000000]", "[1,2,3]", "holds 1000000000000000000 values, data has 3")] // nothing allocated for the shape
    public void Data_that_does_not_fill_its_shape_is_a_shape_mismatch_that_counts_the_data(string shape, string data, string expected)
    {
        var failure = Fail(Tensor("FP64", shape, data));

        Assert.Equal(ServedEventFailureReason.ShapeMismatch, failure.Reason);
        Assert.Contains(expected, failure.Detail);
    }

    [Theory]
    [InlineData("[\"2\"]")]
    [InlineData("[2.5]")]
    [InlineData("[-1]")]
    [InlineData("[[2]]")]
    public void A_shape_that_is_not_a_list_of_sizes_is_a_shape_mismatch(string shape)
    {
        var failure = Fail(Tensor("FP64", shape, "[1,2]"));

        Assert.Equal(ServedEventFailureReason.ShapeMismatch, failure.Reason);
        Assert.Contains($"shape {shape} is not a list of sizes", failure.Detail);
    }

    [Fact]
    public void Every_truncation_of_an_event_is_unreadable()
    {
        var body = Classified("r-7", [50, 12], 0.75, T0);
        Assert.True(ServedEventReader.TryRead(body, 0, 0, out _, out _));

        for (var length = 0; length < body.Length; length++)
        {
            Assert.False(ServedEventReader.TryRead(body.AsSpan(0, length), 0, length, out _, out var failure), $"{length} bytes");
            Assert.Equal(ServedEventFailureReason.Unreadable, failure.Reason);
        }
    }

    [Fact]
    public void A_syntax_error_anywhere_is_unreadable_before_any_field_is_judged()
    {
        // No id (which alone would be missing_field), and the JSON breaks after the inputs.
        var body = $$"""{"model":"fraud-demo","version":"1",{{Served}},"inputs":[],"outputs":[1,}""";

        var failure = Fail(body);

        Assert.Equal(ServedEventFailureReason.Unreadable, failure.Reason);
        Assert.StartsWith("not JSON", failure.Detail);
    }

    [Theory]
    [InlineData("[]", "Array")]
    [InlineData("\"event\"", "String")]
    [InlineData("42", "Number")]
    [InlineData("null", "Null")]
    public void A_body_that_is_not_an_object_is_unreadable(string body, string kind)
    {
        var failure = Fail(body);

        Assert.Equal(ServedEventFailureReason.Unreadable, failure.Reason);
        Assert.Equal($"expected a JSON object, got {kind}", failure.Detail);
    }

    [Fact]
    public void An_output_that_cannot_be_read_is_left_out_and_the_rest_kept()
    {
        var body = $$"""
            {"id":"r","model":"fraud-demo","version":"1",{{Served}},
             "inputs":[{"name":"f","datatype":"FP64","shape":[1],"data":[1]}],
             "outputs":[{"name":"label","datatype":"BYTES","shape":[1],"data":["yes"]},{"name":"p","datatype":"FP32","shape":[2],"data":[0.25,0.75]},3]}
            """;

        var served = Read(body);

        var output = Assert.Single(served.Outputs);
        Assert.Equal("p", output.Name);
        Assert.Equal([0.25, 0.75], output.Values);
    }

    private static string Single(string datatype, string literal) => Tensor(datatype, "[1]", $"[{literal}]");

    private static string Tensor(string datatype, string shape, string data) =>
        $$"""{"id":"r","model":"fraud-demo","version":"1",{{Served}},"inputs":[{"name":"f","datatype":"{{datatype}}","shape":{{shape}},"data":{{data}}}]}""";

    private static ServedEvent Read(string body)
    {
        Assert.True(ServedEventReader.TryRead(Encoding.UTF8.GetBytes(body), 0, 0, out var served, out var failure), failure?.Detail);
        return served;
    }

    private static ServedEventFailure Fail(string body)
    {
        Assert.False(ServedEventReader.TryRead(Encoding.UTF8.GetBytes(body), 0, 0, out _, out var failure));
        return failure;
    }
}
