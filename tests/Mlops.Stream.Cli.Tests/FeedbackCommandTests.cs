namespace Mlops.Stream.Cli.Tests;

/// <summary>
/// <c>mlops feedback</c>'s refusals, which send nothing; writing labels through a real node is in the
/// host's drift end-to-end test.
/// </summary>
public sealed class FeedbackCommandTests(FakeAdminApi api) : IClassFixture<FakeAdminApi>, IDisposable
{
    private readonly TempDirectory _folder = new("cli-feedback-");

    public void Dispose() => _folder.Dispose();

    private Task<CliRun> Mlops(params string[] args) => CliRun.RunAsync(null, [.. args, "--url", api.Url]);

    [Theory]
    [InlineData("--id", "tx-1")]
    [InlineData("--label", "fraud")]
    public async Task One_label_needs_both_an_id_and_a_label(params string[] args)
    {
        var before = api.Requests.Count;
        var run = await Mlops(["feedback", "fraud-demo", .. args]);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("give --id and --label for one label, or --file", run.Stderr);
        Assert.Equal(before, api.Requests.Count);
    }

    [Fact]
    public async Task A_file_line_that_is_no_json_object_is_refused_by_number_before_anything_is_sent()
    {
        var file = Path.Combine(_folder.Path, "labels.jsonl");
        await File.WriteAllLinesAsync(file, ["""{"id":"a","label":1}""", "", "[1,2]"]);
        var before = api.Requests.Count;

        var run = await Mlops("feedback", "fraud-demo", "--file", file);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("labels.jsonl line 3 is not a JSON object", run.Stderr);
        Assert.Equal(before, api.Requests.Count);
    }

    [Fact]
    public async Task A_file_and_a_single_label_together_are_refused()
    {
        var file = Path.Combine(_folder.Path, "one.jsonl");
        await File.WriteAllTextAsync(file, """{"id":"a","label":1}""");

        var run = await Mlops("feedback", "fraud-demo", "--file", file, "--id", "a", "--label", "1");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("not both", run.Stderr);
    }
}
