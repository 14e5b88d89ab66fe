using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Mlops.Stream.Http.Tests.Support;

namespace Mlops.Stream.Http.Tests;

/// <summary>
/// The cluster routes over sources the test controls, in the test app behind the security middleware
/// with an admin key: status codes and error bodies for each outcome, and the caller's name passed on for the audit.
/// </summary>
public sealed class ClusterApiTests : IAsyncLifetime
{
    private const string Member = "akka.tcp://mlops@10.0.0.2:4053";
    private static readonly ClusterState State = new("akka.tcp://mlops@10.0.0.1:4053", "akka.tcp://mlops@10.0.0.1:4053",
        [new ClusterMemberInfo("akka.tcp://mlops@10.0.0.1:4053", "Up", [], 1, true, true, true)], []);

    private readonly FakeMembership _membership = new();
    private TestApp _app = null!;

    private HttpClient Http => _app.Http;

    public async Task InitializeAsync() =>
        _app = await TestApp.StartAsync(
            security: security => security.AdminKeys = [Keys.AdminKey],
            services: services => services
                .AddSingleton<IClusterMembership>(_membership)
                .AddSingleton<IShardDirectory>(new FixedShards(new ShardPlacement("model-replica", []))),
            endpoints: app => app.MapClusterApi());

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Theory]
    [InlineData("/api/v1/cluster")]
    [InlineData("/api/v1/shards")]
    public async Task Reading_needs_the_admin_key(string path)
    {
        using var anonymous = await Http.SendAsync(Keys.Request(HttpMethod.Get, path, null));
        using var admin = await Http.SendAsync(Keys.Request(HttpMethod.Get, path, Keys.AdminKey));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
    }

    [Fact]
    public async Task Get_cluster_answers_the_sources_state()
    {
        using var response = await Http.SendAsync(Keys.Request(HttpMethod.Get, "/api/v1/cluster", Keys.AdminKey));

        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal(State.Leader, root.GetProperty("leader").GetString());
        Assert.Equal("Up", root.GetProperty("members")[0].GetProperty("status").GetString());
        Assert.Equal(1, root.GetProperty("members")[0].GetProperty("age").GetInt32());
    }

    [Theory]
    [InlineData("leave")]
    [InlineData("down")]
    public async Task An_accepted_change_is_202_with_what_was_done_and_names_the_caller(string action)
    {
        using var response = await PostAsync(action, new MemberAddressRequest($" {Member} "));

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var change = await response.Content.ReadFromJsonAsync<ClusterChangeResponse>();
        Assert.Equal(new ClusterChangeResponse(Member, action, "Up"), change);
        Assert.Equal((action, Member, "Security:AdminKeys:0"), _membership.Last);
    }

    [Theory]
    [InlineData("akka.tcp://mlops@10.0.0.9:4053", HttpStatusCode.NotFound, ClusterApi.MemberNotFound)]
    [InlineData("not-an-address", HttpStatusCode.BadRequest, ClusterApi.InvalidAddress)]
    [InlineData("", HttpStatusCode.BadRequest, ClusterApi.InvalidAddress)]
    [InlineData(null, HttpStatusCode.BadRequest, ClusterApi.InvalidAddress)]
    public async Task A_refused_change_is_an_error_body_with_its_code(string? address, HttpStatusCode status, string code)
    {
        using var response = await PostAsync("down", new MemberAddressRequest(address));

        Assert.Equal(status, response.StatusCode);
        var error = await response.Content.ReadFromJsonAsync<ErrorResponse>();
        Assert.Equal(code, error!.Code);
        Assert.False(string.IsNullOrWhiteSpace(error.Error));
    }

    private Task<HttpResponseMessage> PostAsync(string action, MemberAddressRequest body) =>
        Http.SendAsync(Keys.Request(HttpMethod.Post, $"/api/v1/cluster/{action}", Keys.AdminKey, JsonContent.Create(body)));

    /// <summary>Accepts <see cref="Member"/>, refuses other well-formed addresses as not members and the rest as invalid.</summary>
    private sealed class FakeMembership : IClusterMembership
    {
        public (string Action, string Address, string Actor)? Last { get; private set; }

        public ClusterState Current() => State;

        public Task<MembershipChange> LeaveAsync(string address, string actor) => Change("leave", address, actor);

        public Task<MembershipChange> DownAsync(string address, string actor) => Change("down", address, actor);

        private Task<MembershipChange> Change(string action, string address, string actor)
        {
            Last = (action, address, actor);
            MembershipChange result = address == Member
                ? new MembershipChange.Accepted(new ClusterChangeResponse(address, action, "Up"))
                : address.StartsWith("akka.tcp://", StringComparison.Ordinal)
                    ? new MembershipChange.NotMember($"{address} is not a member of the cluster")
                    : new MembershipChange.InvalidAddress($"'{address}' is not a member address");
            return Task.FromResult(result);
        }
    }

    private sealed class FixedShards(ShardPlacement placement) : IShardDirectory
    {
        public Task<ShardPlacement> QueryAsync(CancellationToken cancellationToken) => Task.FromResult(placement);
    }
}
