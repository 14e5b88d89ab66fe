using Mlops.Stream.Host;
using Mlops.Stream.Host.Models;
using Mlops.Stream.Http;

if (args is [CreateDemoCommand.Verb, ..]) return await CreateDemoCommand.RunAsync(args);

var builder = WebApplication.CreateBuilder(args);
builder.AddMlopsStreaming();

var app = builder.Build();
app.MapMlopsApis();
app.Run();
return 0;
