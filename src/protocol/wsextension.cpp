#include "wsextension.h"

WsExtension::~WsExtension() = default;
WsExtensionFactory::~WsExtensionFactory() = default;
