using Mlops.Stream.Host;
using Mlops.Stream.Host.Models;
using Mlops.Stream.Http;
using Mlops.Stream.Http.Security;

if (args is [CreateDemoCommand.Verb, ..]) return await CreateDemoCommand.RunAsync(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddMlopsStreaming();

var app = builder.Build();
app.UseMlopsSecurity();
app.MapHealthApi();
app.MapMetricsApi();
app.MapSystemApi();
app.MapInferenceApi();
app.MapModelsApi();
app.MapAdminApi();
app.MapClusterApi();
app.MapTopicsApi();
app.Run();
return 0;
