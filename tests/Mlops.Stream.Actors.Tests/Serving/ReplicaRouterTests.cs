using Mlops.Stream.Actors.Serving;
using Mlops.Stream.Inference.Gateway;

namespace Mlops.Stream.Actors.Tests.Serving;

public sealed class ReplicaRouterTests
{
    [Theory]
    [InlineData("request-{0}", 0.1)]
    [InlineData("request-{0}", 0.5)]
    [InlineData("id-{0}", 0.1)]
    [InlineData("{0}", 0.3)]
    [InlineData("{0:x8}-order", 0.05)]
    public void The_canary_share_of_ten_thousand_request_ids_is_within_two_points_of_the_weight(string idFormat, double weight)
    {
        // Sequential ids are what producers really send; they must not cluster.
        var ids = Enumerable.Range(0, 10_000).Select(i => string.Format(System.Globalization.CultureInfo.InvariantCulture, idFormat, i)).ToArray();

        var share = ids.Count(id => ReplicaRouter.BucketOf(id) < weight) / (double)ids.Length;

        Assert.InRange(share, weight - 0.02, weight + 0.02);
    }

    [Fact]
    public void A_request_id_always_lands_in_the_same_bucket_so_retries_reach_the_same_version()
    {
        foreach (var id in new[] { "a", "tx-1", "7f1c2e", "request-with-a-long-identifier-0001" })
        {
            var bucket = ReplicaRouter.BucketOf(id);
            Assert.InRange(bucket, 0.0, 0.9999999);
            Assert.All(Enumerable.Range(0, 5), _ => Assert.Equal(bucket, ReplicaRouter.BucketOf(new string(id.ToCharArray()))));
        }
    }

    [Fact]
    public void Ids_that_differ_only_in_their_last_character_spread_over_the_range()
    {
        var buckets = Enumerable.Range(0, 10).Select(i => ReplicaRouter.BucketOf($"id-{i}")).ToArray();
        Assert.True(buckets.Max() - buckets.Min() > 0.5, string.Join(", ", buckets));
    }
}
