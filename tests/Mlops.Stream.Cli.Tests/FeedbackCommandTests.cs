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
    public Task One_label_needs_both_an_id_and_a_label(params string[] args) =>
        RefusedAsync("give --id and --label for one label, or --file", ["feedback", "fraud-demo", .. args]);

    [Fact]
    public async Task A_file_line_that_is_no_json_object_is_refused_by_number_before_anything_is_sent()
    {
        var file = Path.Combine(_folder.Path, "labels.jsonl");
        await File.WriteAllLinesAsync(file, ["""{"id":"a","label":1}""", "", "[1,2]"]);

        await RefusedAsync("labels.jsonl line 3 is not a JSON object", "feedback", "fraud-demo", "--file", file);
    }

    [Fact]
    public async Task A_file_and_a_single_label_together_are_refused()
    {
        var file = Path.Combine(_folder.Path, "one.jsonl");
        await File.WriteAllTextAsync(file, """{"id":"a","label":1}""");

        await RefusedAsync("not both", "feedback", "fraud-demo", "--file", file, "--id", "a", "--label", "1");
    }

    /// <summary>Exit 2 with <paramref name="message"/>, and nothing sent to the node.</summary>
    private async Task RefusedAsync(string message, params string[] args)
    {
        var before = api.Requests.Count;

        var run = await Mlops(args);

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.Equal(before, api.Requests.Count);
    }
}
