using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Mlops.Stream.Http.Security;
using Mlops.Stream.Http.Tests.Support;

namespace Mlops.Stream.Http.Tests.Security;

/// <summary>Invalid security settings stop the start with a message naming the key, and never showing a key.</summary>
public sealed class SecurityOptionsTests
{
    private const string ShortKey = "short-secret";

    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.True(Validate(new SecurityOptions()).Succeeded);
    }

    [Fact]
    public void A_short_key_is_refused_naming_its_setting_without_showing_it()
    {
        var result = Validate(new SecurityOptions { AdminKeys = [Keys.AdminKey, ShortKey] }, new() { [SecurityOptions.InferKeyVariable] = ShortKey });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Security:AdminKeys:1 must be a key of at least 16 characters", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("MLOPS_INFER_KEY must be a key of at least 16 characters", StringComparison.Ordinal));
        Assert.DoesNotContain(ShortKey, result.FailureMessage);
    }

    [Fact]
    public void A_key_with_whitespace_is_refused()
    {
        var result = Validate(new SecurityOptions { InferKeys = ["two words in one key"] });

        Assert.Contains("Security:InferKeys:0 must not contain whitespace", result.FailureMessage);
    }

    [Theory]
    [InlineData("https://app.example.com/", "CorsOrigins:0")]
    [InlineData("app.example.com", "CorsOrigins:0")]
    [InlineData("*", "CorsOrigins:0")]
    [InlineData("ftp://app.example.com", "CorsOrigins:0")]
    public void A_cors_entry_that_is_not_an_origin_is_refused(string origin, string key)
    {
        var result = Validate(new SecurityOptions { CorsOrigins = [origin] });

        Assert.Contains($"Security:{key} must be an origin", result.FailureMessage);
    }

    [Fact]
    public void Origins_with_a_port_are_fine()
    {
        Assert.True(Validate(new SecurityOptions { CorsOrigins = ["http://localhost:3000", "https://app.example.com"] }).Succeeded);
    }

    [Fact]
    public void Rate_limit_and_depth_limits_name_their_keys()
    {
        var result = Validate(new SecurityOptions
        {
            RateLimit = new RateLimitOptions { PermitLimit = 0, Window = TimeSpan.Zero },
            MaxJsonDepth = 0,
        });

        Assert.Contains("Security:RateLimit:PermitLimit must be at least 1", result.FailureMessage);
        Assert.Contains("Security:RateLimit:Window must be above 0", result.FailureMessage);
        Assert.Contains("Security:MaxJsonDepth must be from 1 to 256", result.FailureMessage);
    }

    [Fact]
    public async Task The_app_does_not_start_with_an_invalid_key()
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            TestApp.StartAsync(configuration: new Dictionary<string, string?> { ["Security:AdminKeys:0"] = ShortKey }));

        Assert.Contains("Security:AdminKeys:0", e.Message);
        Assert.DoesNotContain(ShortKey, e.Message);
    }

    private static ValidateOptionsResult Validate(SecurityOptions options, Dictionary<string, string?>? configuration = null) =>
        new SecurityOptionsValidator(new ConfigurationBuilder().AddInMemoryCollection(configuration ?? []).Build()).Validate(null, options);
}
