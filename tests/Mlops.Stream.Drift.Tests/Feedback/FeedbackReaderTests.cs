using System.Text;
using Mlops.Stream.Drift.Feedback;

namespace Mlops.Stream.Drift.Tests.Feedback;

public sealed class FeedbackReaderTests
{
    private static FeedbackLabel Read(string json)
    {
        Assert.True(FeedbackReader.TryRead(Encoding.UTF8.GetBytes(json), 3, 17, out var label, out var failure), failure?.Detail);
        return label;
    }

    private static FeedbackFailure Fail(string json)
    {
        Assert.False(FeedbackReader.TryRead(Encoding.UTF8.GetBytes(json), 3, 17, out _, out var failure));
        Assert.Equal((3, 17L), (failure.Partition, failure.Offset));
        return failure;
    }

    [Fact]
    public void A_label_is_an_index_a_boolean_a_name_or_one_per_row()
    {
        Assert.Equal([new LabelValue(1, null)], Read("""{"id":"r1","label":1}""").Labels.ToArray());
        Assert.Equal([new LabelValue(0, null)], Read("""{"id":"r1","label":false}""").Labels.ToArray());
        Assert.Equal([new LabelValue(null, "fraud")], Read("""{"id":"r1","label":"fraud"}""").Labels.ToArray());
        var batch = Read("""{"id":"r2","label":[0,"fraud",true],"note":"ignored"}""");
        Assert.Equal(("r2", 3), (batch.Id, batch.Labels.Length));
    }

    [Theory]
    [InlineData("not json", FeedbackFailureReason.Unreadable)]
    [InlineData("[1,2]", FeedbackFailureReason.Unreadable)]
    [InlineData("""{"label":1}""", FeedbackFailureReason.MissingId)]
    [InlineData("""{"id":"","label":1}""", FeedbackFailureReason.MissingId)]
    [InlineData("""{"id":7,"label":1}""", FeedbackFailureReason.MissingId)]
    [InlineData("""{"id":"r1"}""", FeedbackFailureReason.BadLabel)]
    [InlineData("""{"id":"r1","label":-1}""", FeedbackFailureReason.BadLabel)]
    [InlineData("""{"id":"r1","label":0.5}""", FeedbackFailureReason.BadLabel)]
    [InlineData("""{"id":"r1","label":[]}""", FeedbackFailureReason.BadLabel)]
    [InlineData("""{"id":"r1","label":{"class":1}}""", FeedbackFailureReason.BadLabel)]
    public void A_bad_record_is_a_failure_of_its_kind(string json, FeedbackFailureReason reason)
    {
        Assert.Equal(reason, Fail(json).Reason);
    }

    [Fact]
    public void A_label_resolves_against_the_versions_classes()
    {
        var names = System.Collections.Immutable.ImmutableArray.Create("legit", "fraud");
        Assert.True(Read("""{"id":"r","label":["fraud",0,"1"]}""").TryResolve(3, 2, names, out var classes, out _));
        Assert.Equal([1, 0, 1], classes);

        Assert.False(Read("""{"id":"r","label":2}""").TryResolve(1, 2, names, out _, out var outOfRange));
        Assert.Contains("no class", outOfRange);
        Assert.False(Read("""{"id":"r","label":"spam"}""").TryResolve(1, 2, names, out _, out _));
        Assert.False(Read("""{"id":"r","label":1}""").TryResolve(2, 2, names, out _, out var count));
        Assert.Contains("1 label(s) for a served event of 2 row(s)", count);
    }
}
