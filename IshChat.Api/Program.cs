using IshChat.Api.Cluster;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddNpgsqlDataSource("chatdb");
builder.AddKeyedNpgsqlDataSource("chatdb-readonly");
builder.AddRedisClient("redis");

var app = builder.Build();

app.MapDefaultEndpoints();
app.MapClusterApi();

app.Run();
