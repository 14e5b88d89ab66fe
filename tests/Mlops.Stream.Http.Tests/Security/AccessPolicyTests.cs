using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Mlops.Stream.Http.Security;
using Mlops.Stream.Http.Tests.Support;

namespace Mlops.Stream.Http.Tests.Security;

/// <summary>The access rules as pure functions: which role a path needs, what each caller gets, what counts as loopback.</summary>
public sealed class AccessPolicyTests
{
    private static readonly ApiKeyStore NoKeys = new([]);

    private static readonly ApiKeyStore BothKeys = new([
        new KeySource("Security:AdminKeys:0", ApiRole.Admin, Keys.AdminKey),
        new KeySource("Security:InferKeys:0", ApiRole.Infer, Keys.InferKey),
    ]);

    [Theory]
    [InlineData("/healthz/live", RouteAccess.Open)]
    [InlineData("/healthz/ready", RouteAccess.Open)]
    [InlineData("/v2/health/live", RouteAccess.Open)]
    [InlineData("/v2/health/ready", RouteAccess.Open)]
    [InlineData("/metrics", RouteAccess.Open)]
    [InlineData("/v2", RouteAccess.Infer)]
    [InlineData("/v2/models/fraud/infer", RouteAccess.Infer)]
    [InlineData("/V2/Models/fraud", RouteAccess.Infer)]
    [InlineData("/v2/healthy", RouteAccess.Infer)]
    [InlineData("/api/v1/models", RouteAccess.Admin)]
    [InlineData("/api/v1/system", RouteAccess.Admin)]
    [InlineData("/", RouteAccess.Admin)]
    [InlineData("/metricsx", RouteAccess.Admin)]
    [InlineData("/v20/models", RouteAccess.Admin)]
    public void Each_path_needs_the_role_of_its_group_and_unknown_paths_fail_closed(string path, RouteAccess expected) =>
        Assert.Equal(expected, AccessPolicy.For(new PathString(path)));

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://127.0.0.5:8080", true)]
    [InlineData("http://localhost:8080", true)]
    [InlineData("https://LOCALHOST:8443", true)]
    [InlineData("http://[::1]:8080", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://*:8080", false)]
    [InlineData("http://+:8080", false)]
    [InlineData("http://10.1.2.3:8080", false)]
    [InlineData("http://node-1.example.com:8080", false)]
    [InlineData("http://unix:/run/mlops.sock", false)]
    public void Only_localhost_and_loopback_ips_count_as_loopback(string address, bool loopback) =>
        Assert.Equal(loopback, ListeningAddresses.IsLoopback(address));

    [Fact]
    public void A_node_is_loopback_only_when_every_address_is_loopback_and_there_is_at_least_one()
    {
        Assert.True(ListeningAddresses.AreLoopbackOnly(["http://127.0.0.1:1", "http://[::1]:1"]));
        Assert.False(ListeningAddresses.AreLoopbackOnly(["http://127.0.0.1:1", "http://10.0.0.1:1"]));
        Assert.False(ListeningAddresses.AreLoopbackOnly([]));
    }

    [Theory]
    // Keys configured: the roles decide.
    [InlineData(true, RouteAccess.Admin, "none", false, 401)]
    [InlineData(true, RouteAccess.Admin, "wrong", false, 401)]
    [InlineData(true, RouteAccess.Admin, "infer", false, 403)]
    [InlineData(true, RouteAccess.Admin, "admin", false, 200)]
    [InlineData(true, RouteAccess.Infer, "none", false, 401)]
    [InlineData(true, RouteAccess.Infer, "infer", false, 200)]
    [InlineData(true, RouteAccess.Infer, "admin", false, 200)]
    [InlineData(true, RouteAccess.Open, "wrong", false, 200)]
    // No keys: open on loopback, admin refused beyond it, a wrong key always 401.
    [InlineData(false, RouteAccess.Admin, "none", true, 200)]
    [InlineData(false, RouteAccess.Admin, "none", false, 403)]
    [InlineData(false, RouteAccess.Infer, "none", true, 200)]
    [InlineData(false, RouteAccess.Infer, "none", false, 200)]
    [InlineData(false, RouteAccess.Admin, "wrong", true, 401)]
    [InlineData(false, RouteAccess.Infer, "wrong", false, 401)]
    public void Decide_follows_the_documented_table(bool keysConfigured, RouteAccess access, string caller, bool loopbackOnly, int status)
    {
        var keys = keysConfigured ? BothKeys : NoKeys;
        var who = caller switch
        {
            "none" => ApiCaller.Anonymous,
            "wrong" => keys.Identify(Keys.WrongKey),
            "infer" => keys.Identify(Keys.InferKey),
            "admin" => keys.Identify(Keys.AdminKey),
            _ => throw new ArgumentOutOfRangeException(nameof(caller)),
        };

        var decision = AccessPolicy.Decide(access, who, keys, loopbackOnly);

        Assert.Equal(status, decision.StatusCode);
        Assert.Equal(status == 200, decision.Allowed);
    }

    [Fact]
    public void Identify_names_the_key_by_its_source_and_a_key_in_both_roles_is_admin()
    {
        var keys = new ApiKeyStore([
            new KeySource("Security:InferKeys:0", ApiRole.Infer, Keys.AdminKey),
            new KeySource("Security:AdminKeys:0", ApiRole.Admin, Keys.AdminKey),
            new KeySource("MLOPS_INFER_KEY", ApiRole.Infer, Keys.InferKey),
        ]);

        Assert.Equal(new ApiCaller("Security:AdminKeys:0", ApiRole.Admin, false), keys.Identify(Keys.AdminKey));
        Assert.Equal(new ApiCaller("MLOPS_INFER_KEY", ApiRole.Infer, false), keys.Identify(Keys.InferKey));
        Assert.Same(ApiCaller.Invalid, keys.Identify(Keys.InferKey + "x"));
        Assert.Same(ApiCaller.Invalid, keys.Identify(""));
    }

    [Fact]
    public void A_key_source_never_prints_its_value()
    {
        var source = new KeySource("MLOPS_ADMIN_KEY", ApiRole.Admin, Keys.AdminKey);

        Assert.DoesNotContain(Keys.AdminKey, source.ToString());
    }

    [Fact]
    public void Keys_come_from_both_arrays_and_both_variables()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            [SecurityOptions.AdminKeyVariable] = "a-from-the-environment",
            [SecurityOptions.InferKeyVariable] = "",
        }).Build();
        var options = new SecurityOptions { AdminKeys = [Keys.AdminKey], InferKeys = [Keys.InferKey, Keys.WrongKey] };

        var sources = ApiKeyStore.Sources(options, configuration).Select(k => (k.Source, k.Role)).ToList();

        Assert.Equal(
            [
                ("Security:AdminKeys:0", ApiRole.Admin),
                ("Security:InferKeys:0", ApiRole.Infer),
                ("Security:InferKeys:1", ApiRole.Infer),
                ("MLOPS_ADMIN_KEY", ApiRole.Admin),
            ],
            sources);
    }
}
