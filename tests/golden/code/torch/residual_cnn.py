"""residual_cnn as a PyTorch model, written by nbunify: (N, 3, 16, 16) -> (N, 10)."""

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn


class Residual(nn.Module):
    """body(x) + shortcut(x); the shortcut is the identity unless given."""

    def __init__(self, body, shortcut=None):
        super().__init__()
        self.body = body
        self.shortcut = nn.Identity() if shortcut is None else shortcut

    def forward(self, x):
        return self.body(x) + self.shortcut(x)


class ResidualCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv2d_1 = nn.Conv2d(3, 8, kernel_size=3, padding=1)
        self.batchnorm_1 = nn.BatchNorm2d(8)
        self.residual_1 = Residual(
            body=nn.Sequential(OrderedDict([
                ("conv2d_2", nn.Conv2d(8, 8, kernel_size=3, padding=1)),
                ("batchnorm_2", nn.BatchNorm2d(8)),
                ("activation_2", nn.ReLU()),
                ("conv2d_3", nn.Conv2d(8, 8, kernel_size=3, padding=1)),
                ("batchnorm_3", nn.BatchNorm2d(8)),
            ])),
        )
        self.residual_2 = Residual(
            body=nn.Sequential(OrderedDict([
                ("conv2d_4_pad", nn.ZeroPad2d((0, 1, 0, 1))),
                ("conv2d_4", nn.Conv2d(8, 16, kernel_size=3, stride=2)),
                ("batchnorm_4", nn.BatchNorm2d(16)),
                ("activation_4", nn.GELU()),
            ])),
            shortcut=nn.Sequential(OrderedDict([
                ("conv2d_5", nn.Conv2d(8, 16, kernel_size=1, stride=2)),
                ("batchnorm_5", nn.BatchNorm2d(16)),
            ])),
        )
        self.avgpool2d_1 = nn.AvgPool2d(2)
        self.batchnorm_6 = nn.BatchNorm1d(256)
        self.dense_1 = nn.Linear(256, 10)

    def forward(self, x):
        x = self.conv2d_1(x)  # (N, 8, 16, 16)
        x = self.batchnorm_1(x)  # (N, 8, 16, 16)
        x = F.relu(x)  # (N, 8, 16, 16)
        x = self.residual_1(x)  # (N, 8, 16, 16)
        x = F.relu(x)  # (N, 8, 16, 16)
        x = self.residual_2(x)  # (N, 16, 8, 8)
        x = self.avgpool2d_1(x)  # (N, 16, 4, 4)
        x = torch.flatten(x, 1)  # (N, 256)
        x = self.batchnorm_6(x)  # (N, 256)
        return F.softmax(self.dense_1(x), dim=1)  # (N, 10)


if __name__ == "__main__":
    model = ResidualCnn().eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        print(model(x).shape)  # torch.Size([2, 10])
