using Mlops.Stream.Actors.Serving;

namespace Mlops.Stream.Actors.Tests.Serving;

public sealed class ReplicaRouterTests
{
    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void The_canary_share_of_ten_thousand_request_ids_is_within_two_points_of_the_weight(double weight)
    {
        var ids = Enumerable.Range(0, 10_000).Select(i => $"request-{i}-{i * 7919 % 104729}").ToArray();

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
}
